-- The log store (docs/operations/observability.md, "Logs in one place"): every container's lines,
-- shipped by rsyslog (deploy/compose/logs/rsyslog.conf) into PostgreSQL. A JSON line (the Cairn
-- services' pino lines, the alert webhook's) keeps its fields in `line` and its level, message,
-- trace and span ids and request id in columns; any other line is kept whole in `msg`.
--
--   SELECT received, container, level, msg FROM logs WHERE trace_id = '4bf92f3577b34da6a3ce929d0e0e4736' ORDER BY received;
--   SELECT received, container, msg FROM logs WHERE line @> '{"module":"rpc"}' AND received > now() - interval '1 hour';
CREATE TABLE IF NOT EXISTS logs (
  id bigserial PRIMARY KEY,
  -- when rsyslog received the line, and the time the line itself gives (pino's ISO `time`)
  received timestamptz NOT NULL DEFAULT now(),
  logged text,
  -- the host that sent it and the container (Docker's syslog driver: tag "{{.Name}}")
  host text NOT NULL DEFAULT '',
  container text NOT NULL DEFAULT '',
  level text NOT NULL DEFAULT '',
  msg text NOT NULL DEFAULT '',
  trace_id text NOT NULL DEFAULT '',
  span_id text NOT NULL DEFAULT '',
  req_id text NOT NULL DEFAULT '',
  -- the whole JSON line (NULL for a line that is not JSON)
  line jsonb
);
CREATE INDEX IF NOT EXISTS logs_trace_id ON logs (trace_id) WHERE trace_id <> '';
CREATE INDEX IF NOT EXISTS logs_received ON logs (received);
CREATE INDEX IF NOT EXISTS logs_container_received ON logs (container, received);
CREATE INDEX IF NOT EXISTS logs_line ON logs USING gin (line jsonb_path_ops);
