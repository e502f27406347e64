//! What every HTTP client of sorsync shares, so none can differ: redirects are never followed (a
//! redirect would carry the client certificate's token, the ID card or the SOAP body to wherever
//! it points), plain http only to this machine, and answers read in chunks up to a cap.

use url::Url;

/// A client builder with sorsync's user agent and no redirects.
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("sorsync/", env!("CARGO_PKG_VERSION")))
}

/// True for a URL whose host is this machine.
pub fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `Err` (with the reason, for a configuration error naming `key`) unless `url` is https, or http
/// to this machine.
pub fn check_scheme(key: &str, url: &Url) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(format!(
            "{key} {url} uses plain http to another machine: use https:// (plain http only to this machine)"
        )),
        other => Err(format!("{key} {url} must start with https:// (not {other}://)")),
    }
}

/// Why an answer could not be read.
#[derive(Debug)]
pub enum ReadFailure {
    /// Longer than the cap: not read further.
    TooLong { cap: usize },
    /// The connection broke off.
    Broken(reqwest::Error),
}

/// Reads at most `cap` bytes of an answer, in chunks, so a broken or hostile server cannot make
/// us hold more than that.
pub async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, ReadFailure> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(ReadFailure::TooLong { cap });
    }
    let mut out = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if out.len() + chunk.len() > cap {
                    return Err(ReadFailure::TooLong { cap });
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(out),
            Err(e) => return Err(ReadFailure::Broken(e)),
        }
    }
}
/// A reqwest error in words (every client's errors), without the URL's query (nothing secret is in our URLs, but keep it short).
pub fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut msg = kind.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}
