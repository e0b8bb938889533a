//! `cdb-paper <role>`: the services of the reference stack in one static binary.
//! This binary is a service, not a tool: it takes one word (the role) and reads everything else
//! from the environment, as containers are configured.

use cdb_paper::config::Env;
use cdb_paper::http::no_routes;
use cdb_paper::metrics::ServiceMetrics;
use cdb_paper::roles::{
    db_writer, execution, migrate, paper_exchange, risk_manager, signal_engine,
};
use cdb_paper::service::{self, EXIT_CONFIG, EXIT_FAILED, EXIT_OK, Probe};

const USAGE: &str = "usage: cdb-paper <role>

roles (long-running services, /health and /metrics on $HTTP_ADDR, default 0.0.0.0:8080):
  signal-engine    prices → signals; POST /api/v1/signals injects one
  risk-manager     signals → decisions and orders
  execution        orders → paper exchange → execution reports
  paper-exchange   the mock exchange (deterministic prices and fills)
  db-writer        signals, decisions, reports → PostgreSQL
one-shot commands:
  migrate          apply the database migrations (MIGRATE_SEED=true loads the seed data)
  reset            empty the tables and streams, load the seed data
  healthcheck      GET /health of this container; exit 0 when healthy
  --version        print the version

Configuration: environment variables, listed with their defaults in the crate documentation
(cdb_paper::config).";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let role = args.first().map(String::as_str).unwrap_or("");
    if args.len() > 1 {
        eprintln!("cdb-paper: unexpected argument {:?}\n\n{USAGE}", args[1]);
        std::process::exit(EXIT_CONFIG);
    }
    match role {
        "--version" | "-V" | "version" => {
            println!("cdb-paper {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        "--help" | "-h" | "help" => {
            println!("{USAGE}");
            return;
        }
        "healthcheck" => {
            let addr = Env.string("HTTP_ADDR", "0.0.0.0:8080");
            std::process::exit(service::healthcheck(&addr));
        }
        "signal-engine" | "risk-manager" | "execution" | "paper-exchange" | "db-writer"
        | "migrate" | "reset" => {}
        "" => {
            eprintln!("cdb-paper: which role?\n\n{USAGE}");
            std::process::exit(EXIT_CONFIG);
        }
        other => {
            eprintln!("cdb-paper: unknown role {other:?}\n\n{USAGE}");
            std::process::exit(EXIT_CONFIG);
        }
    }
    service::init_logging(&Env);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            std::process::exit(EXIT_FAILED);
        }
    };
    let code = runtime.block_on(run(role));
    // Do not wait for detached tasks (idle keep-alive connections) beyond the final log line.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    std::process::exit(code);
}

async fn run(role: &str) -> i32 {
    let env = Env;
    let common = match cdb_paper::config::Common::from_env(&env) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration");
            return EXIT_CONFIG;
        }
    };
    let redis = Probe::Redis(common.redis_url.clone());
    let postgres = Probe::Postgres(common.database_url.clone());
    let exchange = Probe::Http(format!("{}/health", common.exchange_url));
    macro_rules! config {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(e) => {
                    tracing::error!(error = %e, "invalid configuration");
                    return EXIT_CONFIG;
                }
            }
        };
    }
    match role {
        "migrate" | "reset" => {
            let r = if role == "migrate" {
                migrate::migrate().await
            } else {
                migrate::reset().await
            };
            match r {
                Ok(()) => EXIT_OK,
                Err(cdb_paper::errors::Error::Config(e)) => {
                    tracing::error!(error = %e, "invalid configuration");
                    EXIT_CONFIG
                }
                Err(e) => {
                    tracing::error!(error = %e, "{role} failed");
                    EXIT_FAILED
                }
            }
        }
        "signal-engine" => {
            let settings = config!(signal_engine::Settings::from_env(&env));
            let metrics = ServiceMetrics::new(role);
            let routes = config!(signal_engine::routes(&common.redis_url, metrics.clone()));
            service::run(
                "signal-engine",
                vec![redis, exchange],
                routes,
                metrics,
                move |ctx| signal_engine::run(ctx, settings),
            )
            .await
        }
        "risk-manager" => {
            let limits = config!(risk_manager::limits_from_env(&env));
            tracing::info!(?limits, "risk limits");
            service::run(
                "risk-manager",
                vec![redis],
                no_routes(),
                ServiceMetrics::new(role),
                move |ctx| risk_manager::run(ctx, limits),
            )
            .await
        }
        "execution" => {
            let settings = config!(execution::Settings::from_env(&env));
            service::run(
                "execution",
                vec![redis, exchange],
                no_routes(),
                ServiceMetrics::new(role),
                move |ctx| execution::run(ctx, settings),
            )
            .await
        }
        "paper-exchange" => {
            let settings = config!(paper_exchange::Settings::from_env(&env));
            let metrics = ServiceMetrics::new(role);
            let exchange = paper_exchange::Exchange::new(settings, &metrics);
            service::run(
                "paper-exchange",
                Vec::new(),
                exchange.routes(),
                metrics,
                paper_exchange::run,
            )
            .await
        }
        "db-writer" => {
            service::run(
                "db-writer",
                vec![redis, postgres],
                no_routes(),
                ServiceMetrics::new(role),
                db_writer::run,
            )
            .await
        }
        _ => EXIT_CONFIG,
    }
}
