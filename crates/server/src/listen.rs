//! Binding the sockets the `serve` flags name. A bind error says which address failed, which
//! flag (and variable) set it and, for an address in use, whether another of this server's
//! ports holds it: a server started with only `--listen` changed used to fail with "cannot
//! listen on 0.0.0.0:9090", an address its operator never typed.

use std::io;
use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::Listeners;

/// One of the server's ports, named as its operator configures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    Grpc,
    Metrics,
    Health,
    Http,
}

impl Port {
    /// The flag that sets this port's address.
    pub fn flag(self) -> &'static str {
        match self {
            Port::Grpc => "--listen",
            Port::Metrics => "--metrics-listen",
            Port::Health => "--health-listen",
            Port::Http => "--http-listen",
        }
    }

    /// The environment variable that sets it too.
    pub fn env(self) -> &'static str {
        match self {
            Port::Grpc => "CERTEQUIV_LISTEN",
            Port::Metrics => "CERTEQUIV_METRICS_LISTEN",
            Port::Health => "CERTEQUIV_HEALTH_LISTEN",
            Port::Http => "CERTEQUIV_HTTP_LISTEN",
        }
    }
}

/// The addresses to listen on, from the flags; `None` serves no such port.
#[derive(Debug, Clone, Copy)]
pub struct Addresses {
    pub grpc: SocketAddr,
    pub metrics: SocketAddr,
    pub health: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
}

/// Binds every port, in the order gRPC, metrics, health, HTTP; the first that fails ends it.
pub async fn bind_all(addresses: Addresses) -> Result<Listeners, String> {
    let mut binder = Binder::default();
    Ok(Listeners {
        grpc: binder.bind(Port::Grpc, addresses.grpc).await?,
        metrics: Some(binder.bind(Port::Metrics, addresses.metrics).await?),
        health: match addresses.health {
            Some(addr) => Some(binder.bind(Port::Health, addr).await?),
            None => None,
        },
        http: match addresses.http {
            Some(addr) => Some(binder.bind(Port::Http, addr).await?),
            None => None,
        },
    })
}

/// Binds ports one by one, remembering those bound to explain a collision between two.
#[derive(Debug, Default)]
struct Binder {
    bound: Vec<(Port, SocketAddr)>,
}

impl Binder {
    async fn bind(&mut self, port: Port, addr: SocketAddr) -> Result<TcpListener, String> {
        match TcpListener::bind(addr).await {
            Ok(listener) => {
                self.bound.push((port, addr));
                Ok(listener)
            }
            Err(error) => Err(self.explain(port, addr, &error)),
        }
    }

    fn explain(&self, port: Port, addr: SocketAddr, error: &io::Error) -> String {
        let mut message = format!(
            "cannot listen on {addr} (set by {} or {}): {error}",
            port.flag(),
            port.env()
        );
        if error.kind() == io::ErrorKind::AddrInUse {
            let holder = self.bound.iter().find(|(_, other)| overlap(*other, addr));
            match holder {
                Some((other, other_addr)) => message.push_str(&format!(
                    "; {} already listens on {other_addr}: give {} another port",
                    other.flag(),
                    port.flag()
                )),
                None => message.push_str(&format!(
                    "; another process holds it: stop that process or give {} another address",
                    port.flag()
                )),
            }
        }
        message
    }
}

/// Whether two listening addresses take the same port of the same interface (an unspecified
/// address, `0.0.0.0` or `::`, takes every interface).
fn overlap(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port()
        && a.port() != 0
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

#[cfg(test)]
mod tests {
    use clap::Args as _;

    use super::*;
    use crate::cli::ServeArgs;

    const PORTS: [Port; 4] = [Port::Grpc, Port::Metrics, Port::Health, Port::Http];

    #[test]
    fn each_port_names_a_real_flag_and_its_variable() {
        let command = ServeArgs::augment_args(clap::Command::new("serve"));
        for port in PORTS {
            let arg = command
                .get_arguments()
                .find(|a| a.get_long().map(|l| format!("--{l}")).as_deref() == Some(port.flag()))
                .unwrap_or_else(|| panic!("no flag {}", port.flag()));
            assert_eq!(
                arg.get_env().and_then(|e| e.to_str()),
                Some(port.env()),
                "{}",
                port.flag()
            );
        }
    }

    #[tokio::test]
    async fn an_address_in_use_is_named_with_its_flag() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = taken.local_addr().unwrap();
        let error = Binder::default()
            .bind(Port::Metrics, addr)
            .await
            .unwrap_err();
        let prefix = format!(
            "cannot listen on {addr} (set by --metrics-listen or CERTEQUIV_METRICS_LISTEN): "
        );
        let suffix = "; another process holds it: stop that process or give --metrics-listen another address";
        assert!(error.starts_with(&prefix), "{error}");
        assert!(error.ends_with(suffix), "{error}");
        // Between them, the system's own words, e.g. "Address already in use (os error 98)".
        assert!(error.to_lowercase().contains("in use"), "{error}");
    }

    #[tokio::test]
    async fn two_flags_with_one_address_are_both_named() {
        let addresses = Addresses {
            grpc: "127.0.0.1:0".parse().unwrap(),
            metrics: "127.0.0.1:0".parse().unwrap(),
            health: None,
            http: None,
        };
        // Port 0 never collides: each gets a port of its own.
        let listeners = bind_all(addresses).await.unwrap();
        let grpc = listeners.grpc.local_addr().unwrap();
        drop(listeners);

        let held = TcpListener::bind(grpc).await.unwrap();
        let mut binder = Binder::default();
        binder.bound.push((Port::Grpc, grpc));
        let wildcard = SocketAddr::from(([0, 0, 0, 0], grpc.port()));
        let error = binder.bind(Port::Http, wildcard).await.unwrap_err();
        assert!(
            error.starts_with(&format!(
                "cannot listen on {wildcard} (set by --http-listen or CERTEQUIV_HTTP_LISTEN): "
            )),
            "{error}"
        );
        assert!(
            error.ends_with(&format!(
                "; --listen already listens on {grpc}: give --http-listen another port"
            )),
            "{error}"
        );
        drop(held);
    }

    #[test]
    fn overlapping_addresses() {
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(overlap(addr("0.0.0.0:9090"), addr("127.0.0.1:9090")));
        assert!(overlap(addr("127.0.0.1:9090"), addr("127.0.0.1:9090")));
        assert!(overlap(addr("[::]:9090"), addr("0.0.0.0:9090")));
        assert!(!overlap(addr("127.0.0.1:9090"), addr("127.0.0.2:9090")));
        assert!(!overlap(addr("0.0.0.0:9090"), addr("0.0.0.0:9091")));
        assert!(!overlap(addr("127.0.0.1:0"), addr("127.0.0.1:0")));
    }
}
