# workerd config of the fan-out floor: serves bench/fanout-floors/worker.ts,
# bundled by run.ts to bench/.build/fanout-floor-worker.js, with the same
# compatibility date and flags as bench/workerd.capnp. run.ts picks the port
# with --socket-addr http=127.0.0.1:<port>.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .floor)],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const floor :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "../.build/fanout-floor-worker.js")],
  compatibilityDate = "2026-08-15",
  compatibilityFlags = ["enable_request_signal"],
);
