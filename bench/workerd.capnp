# workerd config for the bench: serves the wrangler bundle of src/servers/worker.ts
# (run.ts writes it to bench/.build/worker.js) with the same vars as
# wrangler.toml. run.ts picks the port with --socket-addr http=127.0.0.1:<port>.
# No assets binding: the bench only requests /events. The Worker answers
# nothing without its TOPICS binding (a Durable Object namespace, stored as
# bench/fanout/workerd.capnp says), though /events never uses it.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .edgeSse),
    # Its path is given at start: --directory-path topic-storage=<dir> (servers.ts workerdWithObjects).
    (name = "topic-storage", disk = (writable = true)),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const edgeSse :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed ".build/worker.js")],
  compatibilityDate = "2026-08-15",
  compatibilityFlags = ["enable_request_signal"],
  durableObjectNamespaces = [(className = "TopicObject", uniqueKey = "edge-sse-bench-topics", enableSql = true)],
  durableObjectStorage = (localDisk = "topic-storage"),
  bindings = [
    (name = "SSE_FRAMES", text = "5"),
    (name = "SSE_INTERVAL_MS", text = "1000"),
    (name = "SSE_RETRY_MS", text = "3000"),
    (name = "SSE_KEEPALIVE_MS", text = "15000"),
    (name = "SSE_LOG", text = "off"),
    (name = "TOPICS", durableObjectNamespace = "TopicObject"),
  ],
);
