//! Command line: `serve`, `validate`, `export`, `diff` and `schema`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use certequiv_storage::{
    Cases, DEFAULT_JURISDICTION, LoadedCatalog, Source, Store, expand_paths, load_files,
    load_source,
};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::telemetry::{self, LogFormat};
use crate::tools::diff::DiffInput;
use crate::tools::{diff_json, diff_text, html};
use crate::tracing_otel;
use crate::{ServeConfig, auth, convert, defaults, gateway, listen, run, shutdown};

/// Maps international professional certificates to Chinese professional title levels.
#[derive(Debug, Parser)]
#[command(name = "certequiv", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the gRPC API.
    Serve(Box<ServeArgs>),
    /// Validate catalog files and run their expected-verdict cases; exits non-zero on any
    /// error or failing case (for operators' CI).
    Validate(ValidateArgs),
    /// Write one catalog as JSON, CSV or a self-contained HTML review page to stdout.
    Export(ExportArgs),
    /// Write the OpenAPI 3.1 document of the HTTP/JSON API (generated from the protos) to
    /// stdout; docs/openapi.json is its output.
    Openapi,
    /// Show what changed between two catalogs (files, directories, or two ids of
    /// --catalog-dir). Exit status: 0 no change, 1 changes, 2 error.
    Diff(DiffArgs),
    /// Print the JSON Schema of a catalog file, a cases file or the diff JSON output.
    Schema(SchemaArgs),
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old side: a catalog file or a directory (a catalog id with --catalog-dir).
    pub old: String,
    /// The new side: a catalog file or a directory (a catalog id with --catalog-dir).
    pub new: String,
    /// Compare two catalogs of this directory, OLD and NEW being their ids.
    #[arg(long)]
    pub catalog_dir: Option<PathBuf>,
    /// text (coloured on a terminal), markdown (for a pull-request comment), json (schema:
    /// `certequiv schema diff`) or html (a self-contained review page).
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Markdown,
    Json,
    Html,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[arg(value_enum)]
    pub kind: SchemaKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// A catalog file (`NAME.toml`).
    Catalog,
    /// An expected-verdict cases file (`NAME.cases.toml`).
    Cases,
    /// The output of `certequiv diff --format json`.
    Diff,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address of the gRPC API.
    #[arg(long, env = "CERTEQUIV_LISTEN", default_value = defaults::LISTEN)]
    pub listen: SocketAddr,
    /// Address of the HTTP/JSON API and `GET /openapi.json`; empty turns it off.
    #[arg(long, env = "CERTEQUIV_HTTP_LISTEN", default_value = defaults::HTTP_LISTEN, value_parser = parse_http_listen)]
    pub http_listen: HttpListen,
    /// Browser origins whose pages may call the HTTP API (CORS), comma-separated, e.g.
    /// `https://hr.example.com`; `*` allows any. Default: none (same origin only).
    #[arg(long, env = "CERTEQUIV_HTTP_CORS_ORIGINS", value_delimiter = ',')]
    pub http_cors_origins: Vec<String>,
    /// Address of the Prometheus metrics endpoint (`GET /metrics`).
    #[arg(long, env = "CERTEQUIV_METRICS_LISTEN", default_value = defaults::METRICS_LISTEN)]
    pub metrics_listen: SocketAddr,
    /// Directory of catalog files (*.toml, *.jsonl), watched and hot-reloaded. Default: the
    /// embedded catalog.
    #[arg(long, env = "CERTEQUIV_CATALOG_DIR")]
    pub catalog_dir: Option<PathBuf>,
    /// Jurisdiction whose catalog in force is used when a request names none.
    #[arg(long, env = "CERTEQUIV_DEFAULT_JURISDICTION", default_value = DEFAULT_JURISDICTION)]
    pub default_jurisdiction: String,
    /// After SIGTERM/SIGINT: how long in-flight calls may finish before exit.
    #[arg(long, env = "CERTEQUIV_SHUTDOWN_GRACE", default_value = defaults::SHUTDOWN_GRACE.text, value_parser = humantime::parse_duration)]
    pub shutdown_grace: Duration,
    /// How often the catalog directory is polled besides file events.
    #[arg(long, env = "CERTEQUIV_RELOAD_INTERVAL", default_value = defaults::RELOAD_INTERVAL.text, value_parser = humantime::parse_duration)]
    pub reload_interval: Duration,
    /// One info line per API call (method, request id, gRPC code, latency); off, the line is
    /// at debug.
    #[arg(long, env = "CERTEQUIV_ACCESS_LOG", default_value_t = defaults::ACCESS_LOG, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub access_log: bool,
    /// Serve gRPC server reflection (v1 and v1alpha).
    #[arg(long, env = "CERTEQUIV_REFLECTION", default_value_t = defaults::REFLECTION, action = clap::ArgAction::Set)]
    pub reflection: bool,
    /// Longest a unary call may take (a shorter client deadline wins); 0 leaves only client
    /// deadlines.
    #[arg(long, env = "CERTEQUIV_REQUEST_TIMEOUT", default_value = defaults::REQUEST_TIMEOUT.text, value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,
    /// From a call's headers to its whole request message; a call whose message does not come
    /// is ended with DEADLINE_EXCEEDED.
    #[arg(long, env = "CERTEQUIV_MESSAGE_TIMEOUT", default_value = defaults::MESSAGE_TIMEOUT.text, value_parser = humantime::parse_duration)]
    pub message_timeout: Duration,
    /// Longest gap between request messages of a stream (BatchEvaluate).
    #[arg(long, env = "CERTEQUIV_STREAM_IDLE_TIMEOUT", default_value = defaults::STREAM_IDLE_TIMEOUT.text, value_parser = humantime::parse_duration)]
    pub stream_idle_timeout: Duration,
    /// TLS handshake and HTTP/2 preface of a new connection must complete within this.
    #[arg(long, env = "CERTEQUIV_HANDSHAKE_TIMEOUT", default_value = defaults::HANDSHAKE_TIMEOUT.text, value_parser = humantime::parse_duration)]
    pub handshake_timeout: Duration,
    /// Calls served at once across all connections (streams for their whole life); more fail
    /// fast with RESOURCE_EXHAUSTED.
    #[arg(long, env = "CERTEQUIV_MAX_CONCURRENT_REQUESTS", default_value_t = defaults::MAX_CONCURRENT_REQUESTS)]
    pub max_concurrent_requests: usize,
    /// Streaming calls (BatchEvaluate, Health/Watch, reflection) open at once.
    #[arg(long, env = "CERTEQUIV_MAX_OPEN_STREAMS", default_value_t = defaults::MAX_OPEN_STREAMS)]
    pub max_open_streams: usize,
    /// Connections open at once on each port; more are closed as they arrive.
    #[arg(long, env = "CERTEQUIV_MAX_CONNECTIONS", default_value_t = defaults::MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// HTTP/2 streams one connection may have open at once.
    #[arg(long, env = "CERTEQUIV_MAX_CONCURRENT_STREAMS", default_value_t = defaults::MAX_CONCURRENT_STREAMS)]
    pub max_concurrent_streams: u32,
    /// Close connections gracefully after this age so clients rebalance.
    #[arg(long, env = "CERTEQUIV_MAX_CONNECTION_AGE", default_value = defaults::MAX_CONNECTION_AGE.text, value_parser = humantime::parse_duration)]
    pub max_connection_age: Duration,
    /// PEM certificate chain for TLS on the API port (with --tls-key).
    #[arg(long, env = "CERTEQUIV_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "CERTEQUIV_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA bundle: clients must present a certificate it signed (mutual TLS).
    #[arg(long, env = "CERTEQUIV_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// File of `CALLER_NAME TOKEN` lines; every call but health checks then needs
    /// `authorization: Bearer TOKEN`. Re-read when it changes.
    #[arg(long, env = "CERTEQUIV_AUTH_TOKENS_FILE")]
    pub auth_tokens_file: Option<PathBuf>,
    /// Plaintext address serving only grpc.health.v1, for Kubernetes probes when the API port
    /// requires TLS client certificates.
    #[arg(long, env = "CERTEQUIV_HEALTH_LISTEN")]
    pub health_listen: Option<SocketAddr>,
    /// Largest decoded request message, in bytes.
    #[arg(long, env = "CERTEQUIV_MAX_MESSAGE_BYTES", default_value_t = defaults::MAX_MESSAGE_BYTES)]
    pub max_message_bytes: usize,
    #[command(flatten)]
    pub log: LogArgs,
}

impl ServeArgs {
    /// The server's configuration from these flags, given the TLS and token files they name
    /// already loaded (loading can fail, and `serve` reports that before building this).
    pub fn config(
        &self,
        tls: Option<Arc<crate::tls::ReloadableTls>>,
        http_tls: Option<Arc<crate::tls::ReloadableTls>>,
        tokens: Option<Arc<auth::TokenFile>>,
    ) -> ServeConfig {
        ServeConfig {
            shutdown_grace: self.shutdown_grace,
            reload_interval: self.reload_interval,
            reflection: self.reflection,
            access_log: self.access_log,
            request_timeout: self.request_timeout,
            message_timeout: self.message_timeout,
            stream_idle_timeout: self.stream_idle_timeout,
            handshake_timeout: self.handshake_timeout,
            max_concurrent_requests: self.max_concurrent_requests,
            max_open_streams: self.max_open_streams,
            max_connections: self.max_connections,
            max_concurrent_streams: self.max_concurrent_streams,
            max_connection_age: self.max_connection_age,
            max_message_bytes: self.max_message_bytes,
            tls,
            tokens,
            http_tls,
            http_cors_origins: self
                .http_cors_origins
                .iter()
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
        }
    }
}

/// `--http-listen`: an address, or nothing (the empty string) for no HTTP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpListen(pub Option<SocketAddr>);

fn parse_http_listen(text: &str) -> Result<HttpListen, String> {
    if text.trim().is_empty() {
        return Ok(HttpListen(None));
    }
    text.parse()
        .map(|addr| HttpListen(Some(addr)))
        .map_err(|e| format!("{e} (an address such as 0.0.0.0:8080, or empty for none)"))
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Log filter in RUST_LOG syntax, e.g. `info` or `info,certequiv_storage=debug`.
    #[arg(long, env = "CERTEQUIV_LOG", default_value = defaults::LOG_LEVEL)]
    pub log_level: String,
    #[arg(long, env = "CERTEQUIV_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Catalog files, or directories of them.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Catalog id; default: the catalog in force today.
    #[arg(long)]
    pub catalog: Option<String>,
    /// Read catalogs from this directory instead of the embedded one.
    #[arg(long, env = "CERTEQUIV_CATALOG_DIR")]
    pub catalog_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "json")]
    pub format: ExportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Json,
    Csv,
    /// A self-contained review page: every entry, rule, the not-listed section and the
    /// expected-verdict cases with the engine's answer to each.
    Html,
}

/// Runs a parsed command line.
pub fn main(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve(args) => serve(*args),
        Command::Validate(args) => validate(&args),
        Command::Export(args) => export(&args),
        Command::Openapi => openapi(),
        Command::Diff(args) => diff(&args),
        Command::Schema(args) => schema(&args),
    }
}

/// Catalog problems logged one by one at start; the rest are counted.
const LOGGED_PROBLEMS: usize = 20;

fn serve(args: ServeArgs) -> ExitCode {
    let otel = match tracing_otel::config_from_env(|name| std::env::var(name).ok()) {
        Ok(otel) => otel,
        Err(error) => {
            eprintln!("certequiv: {error}");
            return ExitCode::from(2);
        }
    };
    // Before the logger: the trace exporter, which the logger feeds, lives on the runtime.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("certequiv: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let service_name = otel.as_ref().map(|c| c.service_name.clone());
    let (exporter, tracer) = match otel.map(|config| {
        let _runtime = runtime.enter();
        tracing_otel::install(config)
    }) {
        None => (None, None),
        Some(Ok((exporter, tracer))) => (Some(exporter), Some(tracer)),
        Some(Err(error)) => {
            eprintln!("certequiv: {error}");
            return ExitCode::from(2);
        }
    };
    if let Err(error) = telemetry::init(args.log.log_format, &args.log.log_level, tracer) {
        eprintln!("certequiv: {error}");
        return ExitCode::from(2);
    }
    if let Some(service_name) = service_name {
        tracing::info!(%service_name, "exporting traces over otlp");
    }
    let source = args
        .catalog_dir
        .clone()
        .map_or(Source::Embedded, Source::Dir);
    let store = match Store::open(source, &args.default_jurisdiction) {
        Ok(store) => Arc::new(store),
        Err(error) => {
            for problem in error.0.iter().take(LOGGED_PROBLEMS) {
                // A problem of the whole file has no line, and a syntax error no field path:
                // those fields are left out rather than logged as `line=0` or `field=`. (A
                // field named `message` would clash with the event's own message.)
                let field =
                    (!problem.field.is_empty()).then_some(tracing::field::display(&problem.field));
                tracing::error!(
                    file = %problem.origin,
                    line = problem.line,
                    field,
                    error = %problem.message,
                    "invalid catalog"
                );
            }
            tracing::error!(
                problems = error.0.len(),
                logged = error.0.len().min(LOGGED_PROBLEMS),
                "refusing to start without a valid catalog"
            );
            return ExitCode::FAILURE;
        }
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let files = crate::tls::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: args.tls_client_ca.clone(),
            };
            // The HTTP port reads the same files, offering HTTP/1.1 instead of h2.
            let grpc = crate::tls::ReloadableTls::load(files.clone(), &[b"h2"]);
            match grpc.and_then(|grpc| {
                Ok((
                    grpc,
                    crate::tls::ReloadableTls::load(files, &[b"http/1.1"])?,
                ))
            }) {
                Ok(tls) => Some(tls),
                Err(error) => {
                    tracing::error!(%error, "invalid TLS configuration");
                    return ExitCode::FAILURE;
                }
            }
        }
        _ => None,
    };
    let (tls, http_tls) = tls.unzip();
    let tokens = match args
        .auth_tokens_file
        .as_deref()
        .map(auth::TokenFile::open)
        .transpose()
    {
        Ok(tokens) => tokens,
        Err(error) => {
            tracing::error!(%error, "invalid auth tokens file");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        tls = tls.is_some(),
        mutual_tls = args.tls_client_ca.is_some(),
        tokens = tokens.is_some(),
        "authentication"
    );
    let config = args.config(tls, http_tls, tokens);
    let result = runtime.block_on(async {
        let listeners = listen::bind_all(listen::Addresses {
            grpc: args.listen,
            metrics: args.metrics_listen,
            health: args.health_listen,
            http: args.http_listen.0,
        })
        .await?;
        run(listeners, store, config, shutdown::signal())
            .await
            .map_err(|e| e.to_string())
    });
    if let Some(exporter) = exporter {
        exporter.shutdown();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}

fn openapi() -> ExitCode {
    let document = gateway::descriptor_pool().and_then(|pool| {
        let routes = gateway::routes::RouteTable::from_pool(&pool)?;
        Ok(gateway::openapi::document(&pool, &routes))
    });
    match document {
        Ok(document) => {
            print!("{}", gateway::openapi::to_pretty_json(&document));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn validate(args: &ValidateArgs) -> ExitCode {
    let files = match expand_paths(&args.paths) {
        Ok(files) => files,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    match load_files(&files) {
        Ok(loaded) => {
            for catalog in &loaded {
                let cases = catalog.cases.as_ref().map_or_else(
                    || "no cases".to_owned(),
                    |c| format!("{} cases passed ({})", c.cases.len(), c.origin),
                );
                println!(
                    "ok: {}: catalog {} ({} certificates, etag {}; {cases})",
                    catalog.origin,
                    catalog.catalog.id(),
                    catalog.catalog.certificates().len(),
                    catalog.catalog.etag()
                );
            }
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for error in &errors {
                eprintln!("error: {error}");
            }
            eprintln!("{} error(s)", errors.len());
            ExitCode::FAILURE
        }
    }
}

fn diff(args: &DiffArgs) -> ExitCode {
    let input = match &args.catalog_dir {
        Some(dir) => DiffInput::Ids {
            dir: dir.clone(),
            old: args.old.clone(),
            new: args.new.clone(),
        },
        None => DiffInput::Paths {
            old: args.old.clone().into(),
            new: args.new.clone().into(),
        },
    };
    let run = match crate::tools::diff::run(&input) {
        Ok(run) => run,
        Err(errors) => {
            for error in &errors {
                eprintln!("error: {error}");
            }
            return ExitCode::from(2);
        }
    };
    let output = match args.format {
        DiffFormat::Text => {
            let stdout = std::io::stdout();
            let color = anstream::AutoStream::choice(&stdout) != anstream::ColorChoice::Never;
            diff_text::render_text(&run, color)
        }
        DiffFormat::Markdown => diff_text::render_markdown(&run),
        DiffFormat::Json => diff_json::render(&run),
        DiffFormat::Html => html::diff_page(&run),
    };
    print!("{output}");
    ExitCode::from(u8::from(run.changed()))
}

fn schema(args: &SchemaArgs) -> ExitCode {
    let text = match args.kind {
        SchemaKind::Catalog => certequiv_storage::file::catalog_schema(),
        SchemaKind::Cases => certequiv_storage::cases::cases_schema(),
        SchemaKind::Diff => diff_json::schema(),
    };
    print!("{text}");
    ExitCode::SUCCESS
}

fn export(args: &ExportArgs) -> ExitCode {
    let source = args
        .catalog_dir
        .clone()
        .map_or(Source::Embedded, Source::Dir);
    // Cases are attached, not enforced: the review page shows a failing case rather than
    // refusing to show the catalog.
    let set = match load_source(&source, DEFAULT_JURISDICTION, Cases::Attach) {
        Ok(set) => set,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let chosen = match &args.catalog {
        Some(id) => set.get(id),
        None => set.catalogs().first(),
    };
    let Some(loaded) = chosen else {
        eprintln!(
            "error: catalog {:?} not found",
            args.catalog.as_deref().unwrap_or("")
        );
        return ExitCode::FAILURE;
    };
    let output = match args.format {
        ExportFormat::Json => export_json(loaded),
        ExportFormat::Csv => export_csv(loaded),
        ExportFormat::Html => html::catalog_page(loaded),
    };
    print!("{output}");
    ExitCode::SUCCESS
}

fn export_json(loaded: &LoadedCatalog) -> String {
    let catalog = &loaded.catalog;
    let certificates: Vec<serde_json::Value> = catalog
        .certificates()
        .iter()
        .map(|c| {
            serde_json::json!({
                "id": c.id,
                "section": c.section,
                "item": c.item,
                "name_zh": c.name_zh,
                "name_en": c.name_en,
                "abbreviations": c.abbreviations,
                "aliases": c.aliases,
                "issuers": c.issuers.iter().map(|i| serde_json::json!({"name_zh": &*i.name_zh, "name_en": &*i.name_en})).collect::<Vec<_>>(),
                "country_or_region": &*c.country_or_region,
                "fields": c.fields.iter().map(|f| &**f).collect::<Vec<_>>(),
                "work_scope": &*c.work_scope,
                "title_level": c.title_level.label_zh(),
                "remark": &*c.remark,
            })
        })
        .collect();
    let meta = convert::response::catalog(loaded);
    let value = serde_json::json!({
        "id": meta.id,
        "title": meta.title,
        "jurisdiction": meta.jurisdiction,
        "source": meta.source,
        "etag": meta.etag,
        "effective_from": meta.effective_from,
        "effective_until": meta.effective_until,
        "certificates": certificates,
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    )
}

fn export_csv(loaded: &LoadedCatalog) -> String {
    let mut out = String::from(
        "id,section,item,name_zh,name_en,abbreviations,aliases,issuers_zh,issuers_en,country_or_region,fields,title_level,work_scope,remark\n",
    );
    for c in loaded.catalog.certificates() {
        let cells = [
            c.id.clone(),
            c.section.to_string(),
            c.item.to_string(),
            c.name_zh.clone(),
            c.name_en.clone(),
            c.abbreviations.join("; "),
            c.aliases.join("; "),
            c.issuers
                .iter()
                .map(|i| &*i.name_zh)
                .collect::<Vec<_>>()
                .join("; "),
            c.issuers
                .iter()
                .map(|i| &*i.name_en)
                .collect::<Vec<_>>()
                .join("; "),
            c.country_or_region.to_string(),
            c.fields.join("、"),
            c.title_level.label_zh().to_owned(),
            c.work_scope.to_string(),
            c.remark.to_string(),
        ];
        let row: Vec<String> = cells.iter().map(|cell| csv_cell(cell)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// RFC 4180 quoting; a leading formula character is neutralised so spreadsheets show text.
fn csv_cell(cell: &str) -> String {
    let cell = if cell.starts_with(['=', '+', '-', '@']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    };
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use clap::FromArgMatches;

    use super::*;

    /// `serve` with no flags, whatever `CERTEQUIV_*` variables the test's environment has.
    fn serve_without_flags() -> ServeArgs {
        serve_with(&[])
    }

    fn serve_with(flags: &[&str]) -> ServeArgs {
        let command = ServeArgs::augment_args(clap::Command::new("serve"))
            .mut_args(|arg| arg.env(None::<&'static str>));
        let matches = command
            .try_get_matches_from(std::iter::once("serve").chain(flags.iter().copied()))
            .unwrap();
        ServeArgs::from_arg_matches(&matches).unwrap()
    }

    #[test]
    fn a_server_started_without_flags_has_the_default_config() {
        let args = serve_without_flags();
        let config = args.config(None, None, None);
        // ServeConfig holds TLS state with no PartialEq; its Debug form shows every field.
        assert_eq!(
            format!("{config:?}"),
            format!("{:?}", ServeConfig::default())
        );
        assert_eq!(args.listen.to_string(), defaults::LISTEN);
        assert_eq!(args.metrics_listen.to_string(), defaults::METRICS_LISTEN);
        assert_eq!(
            args.http_listen.0.map(|a| a.to_string()).as_deref(),
            Some(defaults::HTTP_LISTEN)
        );
        assert_eq!(args.log.log_level, defaults::LOG_LEVEL);
    }

    #[test]
    fn flags_reach_the_config() {
        let config = serve_with(&[
            "--shutdown-grace",
            "3s",
            "--max-connection-age",
            "1m",
            "--reflection",
            "false",
            "--http-cors-origins",
            " https://a.example, ,*",
            "--access-log",
        ])
        .config(None, None, None);
        assert_eq!(config.shutdown_grace, Duration::from_secs(3));
        assert_eq!(config.max_connection_age, Duration::from_secs(60));
        assert!(!config.reflection);
        assert_eq!(config.http_cors_origins, ["https://a.example", "*"]);
        assert!(config.access_log);
        assert!(!serve_with(&["--access-log", "false"]).access_log);
    }

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("plain"), "plain");
    }
}
