# workerd config of the fan-out rows of edge-sse on workerd: the wrangler
# bundle of src/servers/worker.ts (run.ts writes it to bench/.build/worker.js),
# as bench/workerd.capnp serves it, with a publish token (fanout/servers.ts
# PUBLISH_TOKEN). Its topics live in the isolate's memory (`workerd serve`
# runs one isolate), not yet in a Durable Object: the Durable Object store is
# on its own branch; once merged, its namespace and storage go here.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .edgeSse)],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const edgeSse :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "../.build/worker.js")],
  compatibilityDate = "2026-08-15",
  compatibilityFlags = ["enable_request_signal"],
  bindings = [
    (name = "SSE_RETRY_MS", text = "3000"),
    (name = "SSE_KEEPALIVE_MS", text = "15000"),
    (name = "SSE_TOPIC_HISTORY", text = "100"),
    (name = "SSE_PUBLISH_TOKEN", text = "fanout-bench-publish-token"),
  ],
);
