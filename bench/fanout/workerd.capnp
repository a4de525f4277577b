# workerd config of the fan-out row of edge-sse on workerd: the wrangler
# bundle of src/servers/worker.ts (run.ts writes it to bench/.build/worker.js)
# as wrangler.toml runs it, each topic in a Durable Object of class
# TopicObject bound as TOPICS, with a publish token (fanout/servers.ts
# PUBLISH_TOKEN). The objects store in SQLite files on local disk, as under
# `wrangler dev` (without the replication an object's writes wait for on
# Cloudflare), in a directory given at start (servers.ts workerdWithObjects).
# Not in memory: there workerd aborts ("Promise callback destroyed itself")
# at the first publish, which sets the topic's alarm (its history's expiry):
# workerd's in-memory alarm code, workerd#7191.
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
  modules = [(name = "worker.js", esModule = embed "../.build/worker.js")],
  compatibilityDate = "2026-08-15",
  compatibilityFlags = ["enable_request_signal"],
  # wrangler.toml's migration makes TopicObject SQLite-backed: enableSql, as wrangler dev sets it.
  durableObjectNamespaces = [(className = "TopicObject", uniqueKey = "edge-sse-bench-topics", enableSql = true)],
  durableObjectStorage = (localDisk = "topic-storage"),
  bindings = [
    (name = "SSE_RETRY_MS", text = "3000"),
    (name = "SSE_KEEPALIVE_MS", text = "15000"),
    (name = "SSE_TOPIC_HISTORY", text = "100"),
    (name = "SSE_PUBLISH_TOKEN", text = "fanout-bench-publish-token"),
    (name = "TOPICS", durableObjectNamespace = "TopicObject"),
  ],
);
