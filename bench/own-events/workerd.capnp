# workerd config of the own-events row: serves bench/own-events/worker.ts,
# bundled by run.ts to bench/.build/own-events-worker.js, with the same
# compatibility date and flags as bench/workerd.capnp (enable_request_signal:
# the source's signal is how a stream learns its client left). run.ts picks
# the port with --socket-addr http=127.0.0.1:<port>.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .ownEvents)],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const ownEvents :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "../.build/own-events-worker.js")],
  compatibilityDate = "2026-08-15",
  compatibilityFlags = ["enable_request_signal"],
  bindings = [
    (name = "SSE_FRAMES", text = "5"),
    (name = "SSE_INTERVAL_MS", text = "1000"),
  ],
);
