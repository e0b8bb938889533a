//! The HTTP side of every service: a small server (`/health`, `/metrics`, role routes) and a
//! pooled client for the paper exchange.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

use crate::errors::{Context, Error};
use crate::metrics::ServiceMetrics;
use crate::shutdown::Shutdown;

/// Request bodies larger than this are refused (413).
const MAX_BODY: usize = 1 << 20;

/// A response: status, content type and body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: StatusCode,
    /// The content type.
    pub content_type: &'static str,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// A JSON reply.
    pub fn json(status: StatusCode, value: &serde_json::Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: Bytes::from(value.to_string()),
        }
    }

    /// A JSON error `{"error": code, "message": …}`.
    pub fn error(status: StatusCode, code: &str, message: impl std::fmt::Display) -> Reply {
        Reply::json(
            status,
            &serde_json::json!({ "error": code, "message": message.to_string() }),
        )
    }

    /// A plain-text reply.
    pub fn text(status: StatusCode, content_type: &'static str, body: String) -> Reply {
        Reply {
            status,
            content_type,
            body: Bytes::from(body),
        }
    }
}

/// A boxed future of a reply.
pub type ReplyFuture = Pin<Box<dyn Future<Output = Reply> + Send>>;

/// A role's routes: method, path and body in, reply out. `None` means "not mine" (404).
pub type Routes = Arc<dyn Fn(&Method, &str, Bytes) -> Option<ReplyFuture> + Send + Sync>;

/// No routes beyond `/health` and `/metrics`.
pub fn no_routes() -> Routes {
    Arc::new(|_, _, _| None)
}

/// The health answer: a future resolving to (healthy?, JSON body).
pub type HealthFn =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = (bool, serde_json::Value)> + Send>> + Send + Sync>;

/// Serves `/health`, `/metrics` and `routes` on `addr` until `shutdown` fires, then lets open
/// requests finish (up to 5 s).
pub async fn serve(
    addr: &str,
    metrics: ServiceMetrics,
    health: HealthFn,
    routes: Routes,
    shutdown: Shutdown,
) -> Result<(), Error> {
    let listener = TcpListener::bind(addr)
        .await
        .context(format!("cannot listen on {addr}"))?;
    tracing::info!(addr, "http listening");
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let metrics = metrics.clone();
                let health = health.clone();
                let routes = routes.clone();
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let metrics = metrics.clone();
                    let health = health.clone();
                    let routes = routes.clone();
                    async move { Ok::<_, Infallible>(handle(req, metrics, health, routes).await) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service);
                let watched = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = watched.await;
                });
            }
            _ = stop.wait() => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
    Ok(())
}

async fn handle(
    req: Request<Incoming>,
    metrics: ServiceMetrics,
    health: HealthFn,
    routes: Routes,
) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let reply = match (method.clone(), path.as_str()) {
        (Method::GET, "/health") => {
            let (ok, body) = health().await;
            let status = if ok {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            Reply::json(status, &body)
        }
        (Method::GET, "/metrics") => Reply::text(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            metrics.render(),
        ),
        _ => match Limited::new(req.into_body(), MAX_BODY).collect().await {
            Err(_) => Reply::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("request bodies are limited to {MAX_BODY} bytes"),
            ),
            Ok(body) => match routes(&method, &path, body.to_bytes()) {
                Some(fut) => fut.await,
                None => Reply::error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("no route {method} {path}"),
                ),
            },
        },
    };
    // Label by route, not by raw path, so that ids in paths cannot explode the series count.
    let route = match path.as_str() {
        "/health" | "/metrics" => path.as_str(),
        p if p.starts_with("/api/") => "api",
        p if p.starts_with("/admin/") => "admin",
        _ => "other",
    };
    metrics
        .http_requests
        .inc(&[("route", route), ("code", reply.status.as_str())]);
    let mut resp = Response::new(Full::new(reply.body));
    *resp.status_mut() = reply.status;
    if let Ok(v) = hyper::header::HeaderValue::from_str(reply.content_type) {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    resp
}

/// A pooled HTTP/1 client with keep-alive.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl HttpClient {
    /// A client whose every request times out after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            .build(connector);
        HttpClient { client, timeout }
    }

    /// Sends a request and returns the status and body.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<Bytes>,
    ) -> Result<(StatusCode, Bytes), Error> {
        let http = |message: String| Error::Http {
            context: format!("{method} {url}"),
            message,
        };
        let mut builder = Request::builder().method(method.clone()).uri(url);
        if body.is_some() {
            builder = builder.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let req = builder
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|e| http(e.to_string()))?;
        let fut = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| http(e.to_string()))?;
            let status = resp.status();
            let bytes = Limited::new(resp.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| http(e.to_string()))?
                .to_bytes();
            Ok((status, bytes))
        };
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| http(format!("no answer within {:?}", self.timeout)))?
    }
}
