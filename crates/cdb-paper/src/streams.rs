//! Redis Streams with consumer groups: the transport of the critical path.
//!
//! Why streams and not Pub/Sub: Pub/Sub drops every message sent while a subscriber is down; a
//! stream keeps it, and a consumer group remembers what each consumer was given and has not
//! acknowledged (its pending entries list). A [`Consumer`] therefore starts by finishing its
//! own pending entries (read from id `0`), periodically takes over the entries of consumers
//! that have been idle longer than `claim_idle` (XAUTOCLAIM: a crashed replica), and only then
//! reads new entries (`>`). Handlers acknowledge (XACK) only after their effect is durable, in
//! the same MULTI/EXEC as their output where the output is in Redis.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::streams::StreamReadReply;
use redis::{AsyncConnectionConfig, Value};

use crate::config::Common;
use crate::errors::{Context, Error};
use crate::metrics::ServiceMetrics;
use crate::model::DATA_FIELD;

/// A Redis connection that reconnects on the next use after an error.
#[derive(Debug)]
pub struct RedisConn {
    client: redis::Client,
    conn: Option<MultiplexedConnection>,
    response_timeout: Duration,
}

impl RedisConn {
    /// A lazily connected handle (nothing is sent until the first use).
    pub fn new(url: &str, response_timeout: Duration) -> Result<Self, Error> {
        let client = redis::Client::open(url).context("invalid REDIS_URL")?;
        Ok(RedisConn {
            client,
            conn: None,
            response_timeout,
        })
    }

    /// The connection, opening it if needed.
    pub async fn get(&mut self) -> Result<&mut MultiplexedConnection, Error> {
        if self.conn.is_none() {
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(3)))
                .set_response_timeout(Some(self.response_timeout));
            let conn = self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .context("cannot connect to redis")?;
            self.conn = Some(conn);
        }
        match self.conn.as_mut() {
            Some(c) => Ok(c),
            None => unreachable_conn(),
        }
    }

    /// Forgets the connection after an error, so the next use reconnects.
    pub fn broken(&mut self) {
        self.conn = None;
    }

    /// Runs a command or pipeline, forgetting the connection when it fails.
    pub async fn query<T: redis::FromRedisValue>(
        &mut self,
        what: &str,
        cmd: &impl QueryOn,
    ) -> Result<T, Error> {
        let conn = self.get().await?;
        let result = cmd.query_on(conn).await;
        if result.is_err() {
            self.broken();
        }
        result.context(what.to_string())
    }
}

fn unreachable_conn<T>() -> Result<T, Error> {
    Err(Error::Http {
        context: "redis".into(),
        message: "connection vanished".into(),
    })
}

/// A command or a pipeline that can be run on a connection.
pub trait QueryOn {
    /// Runs it.
    fn query_on<T: redis::FromRedisValue>(
        &self,
        conn: &mut MultiplexedConnection,
    ) -> impl std::future::Future<Output = Result<T, redis::RedisError>> + Send;
}

impl QueryOn for redis::Cmd {
    fn query_on<T: redis::FromRedisValue>(
        &self,
        conn: &mut MultiplexedConnection,
    ) -> impl std::future::Future<Output = Result<T, redis::RedisError>> + Send {
        self.query_async(conn)
    }
}

impl QueryOn for redis::Pipeline {
    fn query_on<T: redis::FromRedisValue>(
        &self,
        conn: &mut MultiplexedConnection,
    ) -> impl std::future::Future<Output = Result<T, redis::RedisError>> + Send {
        self.query_async(conn)
    }
}

/// One entry read from a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The stream it came from.
    pub stream: String,
    /// Its id.
    pub id: String,
    /// The [`DATA_FIELD`] value, if the entry has one.
    pub data: Option<String>,
}

/// Creates `group` on `stream` (and the stream) if it does not exist. The group starts at id 0,
/// so entries added before the consumer first ran are not skipped.
pub async fn ensure_group(redis: &mut RedisConn, stream: &str, group: &str) -> Result<(), Error> {
    let mut cmd = redis::cmd("XGROUP");
    cmd.arg("CREATE")
        .arg(stream)
        .arg(group)
        .arg("0")
        .arg("MKSTREAM");
    match redis
        .query::<()>(&format!("XGROUP CREATE {stream} {group}"), &cmd)
        .await
    {
        Ok(()) => Ok(()),
        Err(Error::Redis { source, .. }) if source.code() == Some("BUSYGROUP") => Ok(()),
        Err(e) => Err(e),
    }
}

/// A member of a consumer group reading one or more streams.
#[derive(Debug)]
pub struct Consumer {
    redis: RedisConn,
    streams: Vec<String>,
    group: String,
    name: String,
    batch: usize,
    block: Duration,
    claim_idle: Duration,
    pending_mode: bool,
    last_claim: Option<Instant>,
    last_lag: Option<Instant>,
    metrics: ServiceMetrics,
}

impl Consumer {
    /// A consumer named `common.consumer_name` in `group` over `streams`.
    pub fn new(
        common: &Common,
        streams: &[&str],
        group: &str,
        metrics: ServiceMetrics,
    ) -> Result<Self, Error> {
        Ok(Consumer {
            // A blocking read holds the connection for `block`; the timeout must allow for it.
            redis: RedisConn::new(&common.redis_url, common.block + Duration::from_secs(5))?,
            streams: streams.iter().map(|s| s.to_string()).collect(),
            group: group.to_string(),
            name: common.consumer_name.clone(),
            batch: common.batch,
            block: common.block,
            claim_idle: common.claim_idle,
            pending_mode: true,
            last_claim: None,
            last_lag: None,
            metrics,
        })
    }

    /// The group.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// Creates the groups this consumer reads.
    pub async fn ensure_groups(&mut self) -> Result<(), Error> {
        for s in self.streams.clone() {
            ensure_group(&mut self.redis, &s, &self.group).await?;
        }
        Ok(())
    }

    /// After a failed batch: read the pending entries again before anything new.
    pub fn retry_pending(&mut self) {
        self.pending_mode = true;
    }

    /// The next batch: own pending entries first, then new ones (waiting up to `block`).
    /// An empty batch means nothing arrived in time.
    pub async fn next_batch(&mut self) -> Result<Vec<Entry>, Error> {
        self.maybe_claim().await?;
        self.maybe_report_lag().await;
        if self.pending_mode {
            let entries = self.read("0", None).await?;
            if !entries.is_empty() {
                return Ok(entries);
            }
            self.pending_mode = false;
        }
        self.read(">", Some(self.block)).await
    }

    async fn read(&mut self, id: &str, block: Option<Duration>) -> Result<Vec<Entry>, Error> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(&self.group)
            .arg(&self.name)
            .arg("COUNT")
            .arg(self.batch);
        if let Some(b) = block {
            cmd.arg("BLOCK").arg(b.as_millis() as u64);
        }
        cmd.arg("STREAMS");
        for s in &self.streams {
            cmd.arg(s);
        }
        for _ in &self.streams {
            cmd.arg(id);
        }
        let reply: Result<Option<StreamReadReply>, Error> =
            self.redis.query("XREADGROUP", &cmd).await;
        let reply = match reply {
            Ok(r) => r,
            Err(Error::Redis { source, .. }) if source.code() == Some("NOGROUP") => {
                // The stream was deleted (a reset): recreate the groups and carry on.
                tracing::warn!(group = %self.group, "consumer group vanished; recreating it");
                self.ensure_groups().await?;
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for key in reply.map(|r| r.keys).unwrap_or_default() {
            let n = key.ids.len();
            for sid in key.ids {
                let data = match sid.map.get(DATA_FIELD) {
                    Some(Value::BulkString(b)) => Some(String::from_utf8_lossy(b).into_owned()),
                    Some(Value::SimpleString(s)) => Some(s.clone()),
                    _ => None,
                };
                out.push(Entry {
                    stream: key.key.clone(),
                    id: sid.id,
                    data,
                });
            }
            if n > 0 {
                self.metrics
                    .messages_in
                    .inc_by(&[("stream", key.key.as_str())], n as u64);
            }
        }
        Ok(out)
    }

    /// Takes over the entries other consumers of the group have left idle for `claim_idle`
    /// (a replica that crashed and never came back). They then come out of the pending read.
    async fn maybe_claim(&mut self) -> Result<(), Error> {
        let due = self
            .last_claim
            .is_none_or(|t| t.elapsed() >= self.claim_idle.min(Duration::from_secs(10)));
        if !due {
            return Ok(());
        }
        self.last_claim = Some(Instant::now());
        for stream in self.streams.clone() {
            let mut cursor = "0-0".to_string();
            for _ in 0..100 {
                let mut cmd = redis::cmd("XAUTOCLAIM");
                cmd.arg(&stream)
                    .arg(&self.group)
                    .arg(&self.name)
                    .arg(self.claim_idle.as_millis() as u64)
                    .arg(&cursor)
                    .arg("COUNT")
                    .arg(self.batch)
                    .arg("JUSTID");
                let reply: Value = match self.redis.query("XAUTOCLAIM", &cmd).await {
                    Ok(v) => v,
                    Err(Error::Redis { source, .. }) if source.code() == Some("NOGROUP") => break,
                    Err(e) => return Err(e),
                };
                let (next, claimed) = parse_autoclaim(&reply);
                if claimed > 0 {
                    tracing::info!(stream, claimed, "claimed entries of an idle consumer");
                    self.pending_mode = true;
                }
                if next == "0-0" || next.is_empty() {
                    break;
                }
                cursor = next;
            }
        }
        Ok(())
    }

    async fn maybe_report_lag(&mut self) {
        if self
            .last_lag
            .is_some_and(|t| t.elapsed() < Duration::from_secs(2))
        {
            return;
        }
        self.last_lag = Some(Instant::now());
        for stream in self.streams.clone() {
            if let Ok(info) = group_info(&mut self.redis, &stream, &self.group).await {
                let labels = [("stream", stream.as_str()), ("group", self.group.as_str())];
                if let Some(lag) = info.lag {
                    self.metrics.stream_lag.set(&labels, lag as f64);
                }
                self.metrics
                    .stream_pending
                    .set(&labels, info.pending as f64);
            }
        }
    }
}

/// What XINFO GROUPS says of one group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupInfo {
    /// Entries delivered but not acknowledged.
    pub pending: u64,
    /// Entries not yet delivered (Redis ≥ 7; `None` when Redis cannot tell).
    pub lag: Option<u64>,
    /// Consumers in the group.
    pub consumers: u64,
}

/// XINFO GROUPS for `group` on `stream`.
pub async fn group_info(
    redis: &mut RedisConn,
    stream: &str,
    group: &str,
) -> Result<GroupInfo, Error> {
    let mut cmd = redis::cmd("XINFO");
    cmd.arg("GROUPS").arg(stream);
    let groups: Vec<HashMap<String, Value>> = redis.query("XINFO GROUPS", &cmd).await?;
    for g in groups {
        let name = g.get("name").and_then(value_string);
        if name.as_deref() == Some(group) {
            return Ok(GroupInfo {
                pending: g.get("pending").and_then(value_u64).unwrap_or(0),
                lag: g.get("lag").and_then(value_u64),
                consumers: g.get("consumers").and_then(value_u64).unwrap_or(0),
            });
        }
    }
    Ok(GroupInfo::default())
}

fn value_string(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

fn value_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Int(i) => u64::try_from(*i).ok(),
        other => value_string(other).and_then(|s| s.parse().ok()),
    }
}

fn parse_autoclaim(v: &Value) -> (String, usize) {
    match v {
        Value::Array(items) => {
            let next = items.first().and_then(value_string).unwrap_or_default();
            let claimed = match items.get(1) {
                Some(Value::Array(ids)) => ids.len(),
                _ => 0,
            };
            (next, claimed)
        }
        _ => (String::new(), 0),
    }
}

/// XADD `stream` * data `json`, added to a pipeline.
pub fn xadd(pipe: &mut redis::Pipeline, stream: &str, json: &str) {
    pipe.cmd("XADD")
        .arg(stream)
        .arg("*")
        .arg(DATA_FIELD)
        .arg(json)
        .ignore();
}

/// XACK of `entries` (grouped by stream), added to a pipeline.
pub fn xack(pipe: &mut redis::Pipeline, group: &str, entries: &[Entry]) {
    let mut by_stream: Vec<(&str, Vec<&str>)> = Vec::new();
    for e in entries {
        match by_stream.iter_mut().find(|(s, _)| *s == e.stream) {
            Some((_, ids)) => ids.push(&e.id),
            None => by_stream.push((&e.stream, vec![&e.id])),
        }
    }
    for (stream, ids) in by_stream {
        let cmd = pipe.cmd("XACK").arg(stream).arg(group);
        for id in ids {
            cmd.arg(id);
        }
        cmd.ignore();
    }
}

/// The time a stream id was assigned (its millisecond part).
pub fn id_millis(id: &str) -> Option<u64> {
    id.split('-').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autoclaim_replies_give_the_cursor_and_the_count() {
        let v = Value::Array(vec![
            Value::BulkString(b"0-0".to_vec()),
            Value::Array(vec![Value::BulkString(b"1-1".to_vec())]),
            Value::Array(vec![]),
        ]);
        assert_eq!(parse_autoclaim(&v), ("0-0".to_string(), 1));
    }

    #[test]
    fn stream_ids_carry_their_time() {
        assert_eq!(id_millis("1733300000000-3"), Some(1_733_300_000_000));
        assert_eq!(id_millis("x"), None);
    }
}
