# workerd config of the workerd floor: serves bench/floors/worker.ts, bundled
# by run.ts to bench/.build/floor-worker.js, with the same compatibility date
# and flags as bench/workerd.capnp, so only the module differs from the
# edge-sse row. run.ts picks the port with --socket-addr http=127.0.0.1:<port>.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .floor)],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const floor :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "../.build/floor-worker.js")],
  compatibilityDate = "2026-08-15",
  compatibilityFlags = ["enable_request_signal"],
  bindings = [
    (name = "SSE_FRAMES", text = "5"),
    (name = "SSE_INTERVAL_MS", text = "1000"),
  ],
);
