//! What must never be shown: secrets in URLs, for messages and logs.

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`, for messages and logs.
/// Hides the password in the user-info part and every query parameter whose name says it holds
/// a secret (`password=`, `sslpassword=`...). Errs on the side of hiding: everything up to the
/// last `@` counts as user-info, so a password holding `/`, `?` or `@` stays hidden too.
pub fn redact_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_string() };
    let mut out = url[..scheme_end].to_string();
    let mut rest = &url[scheme_end..];
    if let Some(at) = rest.rfind('@') {
        let user_info = &rest[..at];
        match user_info.find(':') {
            Some(colon) => out.push_str(&format!("{}:***", &user_info[..colon])),
            None if user_info.contains(['/', '?', '#']) => out.push_str("***"),
            None => out.push_str(user_info),
        }
        rest = &rest[at..];
    }
    let (head, query) = match rest.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (rest, None),
    };
    out.push_str(head);
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if is_secret_parameter(k) => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// Whether a URL query parameter of this name holds a secret (`password`, `secret`, `token` in it).
pub fn is_secret_parameter(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "token"].iter().any(|s| key.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_do_not_appear_in_messages() {
        assert_eq!(redact_password("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_password("sqlite://sorsync.db"), "sqlite://sorsync.db");
        assert_eq!(redact_password("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_password("postgres://h:1/db?password=s3cret&x=1"), "postgres://h:1/db?password=***&x=1");
        assert_eq!(redact_password("postgres://u:pa/ss@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_password("postgres://u:pa?ss@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_password("postgres://h/db?sslpassword=k3y"), "postgres://h/db?sslpassword=***");
    }
}
