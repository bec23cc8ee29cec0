//! Reading the bound addresses from the server's log, the one place a port-0 binary tells them.
//!
//! Before it reports `serving`, the server logs one line per listener with its address as a
//! plain value: `metrics listening`, `http listening`, `health listening`, then `serving` for
//! the gRPC port. With `--log-format json` a line is one JSON object (`"message":"serving"`,
//! `"addr":"127.0.0.1:PORT"`) and is read with serde_json; with `--log-format text` the line
//! is `… certequiv_server: serving addr=127.0.0.1:PORT catalogs=1` and the `addr=` field
//! is read after the exact message. Scripts read the JSON form (tests/conformance/run.sh).

use std::net::SocketAddr;

/// The `addr` field of `line` when it is the log event `message` (`serving`, `http listening`,
/// …); `None` for any other line.
pub fn logged_addr(line: &str, message: &str) -> Option<SocketAddr> {
    if line.trim_start().starts_with('{') {
        let event: serde_json::Value = serde_json::from_str(line).ok()?;
        if event.get("message")?.as_str()? != message {
            return None;
        }
        return event.get("addr")?.as_str()?.parse().ok();
    }
    // Text: `<time> <LEVEL> <target>: <message> <field>=<value> …`; readiness events carry no
    // span, so the first ": " ends the target.
    let (_, event) = line.split_once(": ")?;
    let fields = event.strip_prefix(message)?.strip_prefix(' ')?;
    fields
        .split(' ')
        .find_map(|field| field.strip_prefix("addr="))?
        .parse()
        .ok()
}
