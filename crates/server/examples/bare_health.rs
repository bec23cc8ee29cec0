//! The baseline for middleware cost: a bare tonic server with nothing but tonic-health
//! (the overall "" service SERVING from creation), on the same tokio runtime flavour as
//! `certequiv serve` and with tonic's default server settings. The listener is bound exactly
//! as `Server::serve(addr)` binds it (TCP_NODELAY on, tonic's default), only so that the
//! bound address can be printed first.
//!
//! Usage: `bare_health [ADDR]` (default `127.0.0.1:0`); prints `serving addr=...` once bound.

use std::error::Error;
use std::io::Write;
use std::net::SocketAddr;

use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into())
        .parse()?;
    let (_reporter, health) = tonic_health::server::health_reporter();
    let incoming = TcpIncoming::bind(addr)?.with_nodelay(Some(true));
    println!("serving addr={}", incoming.local_addr()?);
    std::io::stdout().flush()?;
    Server::builder()
        .add_service(health)
        .serve_with_incoming(incoming)
        .await?;
    Ok(())
}
