//! Tests of the route table (`sorsync::web::routes::ROUTES`, the one list the router and the
//! OpenAPI document are built from): every route allows exactly the callers its rule names
//! (every role x own/other municipality, and no session) and refused requests change nothing;
//! the router serves no other method on the table's paths; the OpenAPI document names the
//! bodies every API route takes and answers, and the answers fit them. And escaping: a unit named
//! `<script>alert(1)</script>` is shown as text on every page that shows unit names.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use sorsync::domain::KommuneKode;
use sorsync::review::{Actor, Decision, Role};
use sorsync::store::{ProposalStatus, Store};
use sorsync::web::routes::{Method, Route, Who, ROUTES};

use crate::test_db::TestDb;
use crate::web::{
    fk_id, kommune, other_kommune, pending_links, populate, signed_in, start, user_for, Client, Reply, PASSWORD, XSS,
    XSS_ESCAPED,
};

on_sqlite_and_postgres!(
    every_route_allows_exactly_the_roles_of_the_table_and_only_in_their_own_municipality,
    routes_for_anyone_and_for_signed_in_users_answer_as_the_table_says,
    the_router_serves_no_method_the_table_lacks_on_its_paths,
    the_openapi_document_names_the_bodies_of_every_api_route_and_the_answers_fit_them,
    a_unit_named_like_a_script_is_shown_as_text_on_every_page,
);

/// Sends `route` as `client` for municipality `k` and proposal `id`, with what a caller the
/// route allows would send: the form fields or JSON body, and the CSRF token.
async fn request(client: &mut Client, route: &Route, k: KommuneKode, id: i64) -> Reply {
    let path = route.path.replace("{kommune}", &k.to_string()).replace("{id}", &id.to_string());
    if route.method == Method::Get {
        return client.get(&path).await;
    }
    let csrf = client.csrf.clone();
    let id_text = id.to_string();
    let (form, body): (Vec<(&str, &str)>, Value) = match path.rsplit('/').next().unwrap_or_default() {
        "login" if route.api().is_some() => {
            return client.post_json(&path, &json!({"user": "read_only-350", "password": PASSWORD}), false).await
        }
        "login" => return client.sign_in_form("read_only-350", PASSWORD).await,
        "decide" if path.contains("/cases/") => (vec![("action", "reject")], json!({"action": "reject"})),
        "decide" => (vec![("decision", "reject")], json!({"decision": "reject"})),
        "act" => (vec![("action", "no_match")], json!({"action": "no_match"})),
        "bulk" => (vec![("ids", &id_text)], json!({"ids": [id]})),
        "undo" | "logout" | "acs" => (vec![], json!({})),
        _ => panic!("this test does not know what to send to POST {}: add it here", route.path),
    };
    if route.api().is_some() {
        client.post_json(&path, &body, true).await
    } else {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form);
        client.post_form(&path, &fields).await
    }
}

/// What a caller the route allows gets: a page 200, a form 303 (a redirect), the API 200 (204
/// when it answers no body).
fn success(route: &Route) -> u16 {
    match (route.method, route.api()) {
        (Method::Get, _) => 200,
        (Method::Post, None) => 303,
        (Method::Post, Some(api)) if api.response.is_none() => 204,
        (Method::Post, Some(_)) => 200,
    }
}

/// Without a session a page sends to the sign-in page and the API answers 401.
fn refused_without_session(route: &Route, reply: &Reply) -> bool {
    match route.api() {
        Some(_) => reply.status == 401,
        None => reply.status == 303 && reply.location.as_deref() == Some("/login"),
    }
}

async fn pending(store: &Store, k: KommuneKode) -> BTreeSet<i64> {
    store.proposals(k, Some(ProposalStatus::Pending)).await.unwrap().into_iter().map(|p| p.id).collect()
}

async fn every_route_allows_exactly_the_roles_of_the_table_and_only_in_their_own_municipality(db: &TestDb) {
    let store = &db.store;
    populate(store).await;
    let server = start(store.clone()).await;
    let municipality_routes: Vec<(&Route, &[Role])> = ROUTES
        .iter()
        .filter_map(|r| match r.who {
            Who::RoleIn(roles) => Some((r, roles)),
            _ => None,
        })
        .collect();
    assert!(municipality_routes.len() > 20, "the table has the municipality routes");
    let mut failures = Vec::new();
    for role in Role::ALL {
        let user = user_for(role, kommune());
        let mut client = signed_in(&server.base, &user).await;
        for &(route, allowed) in &municipality_routes {
            let (method, path) = (route.method.as_str(), route.path);
            for (k, own) in [(kommune(), true), (other_kommune(), false)] {
                let id = pending_links(store, k).await[0];
                if path.ends_with("/undo") {
                    // Something of the user's own to undo, where the library lets the user decide.
                    let _ = sorsync::review::decide(store, &Actor::new(user.clone()), id, Decision::Reject, None).await;
                }
                let before = pending(store, k).await;
                let reply = request(&mut client, route, k, id).await;
                let should = own && allowed.contains(&role);
                let expected = if should { success(route) } else { 403 };
                let whose = if own { "own" } else { "other" };
                if reply.status != expected {
                    failures.push(format!(
                        "{method} {path} as {} ({whose}): {}, expected {expected}",
                        role.as_str(),
                        reply.status
                    ));
                }
                if route.method == Method::Post {
                    let after = pending(store, k).await;
                    let id_pending = after.contains(&id);
                    if !should && after != before {
                        failures.push(format!(
                            "{method} {path} as {} ({whose}) changed proposals although refused",
                            role.as_str()
                        ));
                    }
                    if should && path.ends_with("/undo") && !id_pending {
                        failures
                            .push(format!("{method} {path} as {} did not undo the decision on {id}", role.as_str()));
                    }
                    if should && !path.ends_with("/undo") && id_pending {
                        failures.push(format!("{method} {path} as {} did not decide proposal {id}", role.as_str()));
                    }
                }
            }
        }
    }
    let mut anon = Client::new(&server.base);
    for &(route, _) in &municipality_routes {
        let id = pending_links(store, kommune()).await[0];
        let before = pending(store, kommune()).await;
        let reply = request(&mut anon, route, kommune(), id).await;
        if !refused_without_session(route, &reply) {
            failures.push(format!(
                "{} {} without a session: {} to {:?}",
                route.method.as_str(),
                route.path,
                reply.status,
                reply.location
            ));
        }
        if pending(store, kommune()).await != before {
            failures.push(format!("{} {} without a session changed proposals", route.method.as_str(), route.path));
        }
    }
    assert!(failures.is_empty(), "authorisation matrix:\n{}", failures.join("\n"));
}

async fn routes_for_anyone_and_for_signed_in_users_answer_as_the_table_says(db: &TestDb) {
    let store = &db.store;
    populate(store).await;
    let server = start(store.clone()).await;
    let mut failures = Vec::new();
    for route in ROUTES {
        let (method, path) = (route.method.as_str(), route.path);
        let id = pending_links(store, kommune()).await[0];
        match route.who {
            Who::Anyone => {
                // Served without a session (SAML's routes answer 404 here: it is not configured).
                let reply = request(&mut Client::new(&server.base), route, kommune(), id).await;
                if matches!(reply.status, 401 | 403) || reply.location.as_deref() == Some("/login") {
                    failures.push(format!("{method} {path} refused a caller without a session: {}", reply.status));
                }
            }
            Who::SignedIn => {
                let reply = request(&mut Client::new(&server.base), route, kommune(), id).await;
                if !refused_without_session(route, &reply) {
                    failures
                        .push(format!("{method} {path} without a session: {} to {:?}", reply.status, reply.location));
                }
                // A user of another municipality, on a client of its own (the sign-outs end it).
                let mut client = signed_in(&server.base, &user_for(Role::SorAdmin, other_kommune())).await;
                let reply = request(&mut client, route, kommune(), id).await;
                if reply.status != success(route) {
                    failures.push(format!("{method} {path} signed in: {}, expected {}", reply.status, success(route)));
                }
            }
            Who::RoleIn(_) => {}
        }
    }
    assert!(failures.is_empty(), "routes for anyone and for signed-in users:\n{}", failures.join("\n"));
}

async fn the_router_serves_no_method_the_table_lacks_on_its_paths(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut client = signed_in(&server.base, "sor_admin-350").await;
    let paths: BTreeSet<&str> = ROUTES.iter().map(|r| r.path).collect();
    let id = pending_links(&db.store, kommune()).await[0];
    for path in paths {
        let url = path.replace("{kommune}", "350").replace("{id}", &id.to_string());
        let listed = |m: Method| ROUTES.iter().any(|r| r.path == path && r.method == m);
        if !listed(Method::Get) {
            assert_eq!(client.get(&url).await.status, 405, "GET {path} is served but not in the table");
        }
        if !listed(Method::Post) {
            let csrf = client.csrf.clone();
            let status = client.post_form(&url, &[("csrf", &csrf)]).await.status;
            assert_eq!(status, 405, "POST {path} is served but not in the table");
        }
    }
    assert_eq!(client.get("/k/350/not-a-page").await.status, 404);
}

/// A wave plan with both municipalities, so that the wave report has something to say.
async fn store_wave_plan(store: &Store) {
    let plan = r#"
[[wave]]
name = "first"
start = 2026-09-01
end = 2026-12-01

[[wave.municipality]]
name = "Testby"
kommunekode = "350"
cvr = "64942212"
status = "pilot"
"#;
    let plan = sorsync::waves::plan::parse_plan(plan, "plan.toml").unwrap();
    sorsync::waves::runner::store_plan(store, &plan, "plan.toml").await.unwrap();
}

/// The problems of `value` against `schema` of the OpenAPI 3.0 document `doc` (`$ref`,
/// `nullable`, `type`, `enum`, `properties`, `required`, `additionalProperties`, `items`,
/// `anyOf`, `oneOf`, `allOf`). A property an object's schema does not name is a problem too
/// (unless it allows others), so a field added to an answer without its schema is found; an
/// object schema without properties is free-form.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
        let target = &doc["components"]["schemas"][name];
        if target.is_null() {
            problems.push(format!("{at}: {r} names no schema"));
        }
        return check(doc, target, value, at, problems);
    }
    let null_allowed =
        schema["nullable"] == true || schema["enum"].as_array().is_some_and(|e| e.contains(&Value::Null));
    if value.is_null() && null_allowed {
        return;
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema[key].as_array() {
            // Fits one of them, else the problems of the one it comes closest to.
            let mut closest: Option<Vec<String>> = None;
            for option in options {
                let mut p = Vec::new();
                check(doc, option, value, at, &mut p);
                if closest.as_ref().is_none_or(|c| p.len() < c.len()) {
                    closest = Some(p);
                }
            }
            problems.extend(closest.unwrap_or_default());
        }
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        check(doc, part, value, at, problems);
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            problems.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    let fits = match &schema["type"] {
        Value::Null => true,
        Value::String(t) if t == "object" => {
            let Some(object) = value.as_object() else {
                problems.push(format!("{at}: {value} is not an object"));
                return;
            };
            for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !object.contains_key(name) {
                    problems.push(format!("{at}: {name} is missing"));
                }
            }
            for (name, v) in object {
                let at = format!("{at}.{name}");
                match (&schema["properties"][name], &schema["additionalProperties"]) {
                    (Value::Null, Value::Object(_)) => check(doc, &schema["additionalProperties"], v, &at, problems),
                    (Value::Null, _) if schema["properties"].is_object() => {
                        problems.push(format!("{at} is not in the schema"))
                    }
                    (Value::Null, _) => {}
                    (property, _) => check(doc, property, v, &at, problems),
                }
            }
            true
        }
        Value::String(t) if t == "array" => {
            let Some(items) = value.as_array() else {
                problems.push(format!("{at}: {value} is not an array"));
                return;
            };
            for (i, item) in items.iter().enumerate() {
                check(doc, &schema["items"], item, &format!("{at}[{i}]"), problems);
            }
            true
        }
        Value::String(t) if t == "string" => value.is_string(),
        Value::String(t) if t == "integer" => value.is_i64() || value.is_u64(),
        Value::String(t) if t == "number" => value.is_number(),
        Value::String(t) if t == "boolean" => value.is_boolean(),
        other => {
            problems.push(format!("{at}: the schema's type {other} is not OpenAPI 3.0"));
            true
        }
    };
    if !fits {
        problems.push(format!("{at}: {value} is not of type {}", schema["type"]));
    }
}

async fn the_openapi_document_names_the_bodies_of_every_api_route_and_the_answers_fit_them(db: &TestDb) {
    let store = &db.store;
    populate(store).await;
    store_wave_plan(store).await;
    let server = start(store.clone()).await;
    let mut c = signed_in(&server.base, "sor_admin-350").await;
    let doc = c.get("/api/openapi.json").await.json();
    let api_routes: Vec<&Route> = ROUTES.iter().filter(|r| r.api().is_some()).collect();
    let operation = |r: &Route| doc["paths"][r.path][r.method.as_str().to_lowercase()].clone();
    let mut failures = Vec::new();

    // Every path of the document is a route of the table (and so of the router).
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for method in methods.as_object().unwrap().keys() {
            if !api_routes.iter().any(|r| r.path == path && r.method.as_str().eq_ignore_ascii_case(method)) {
                failures.push(format!("{method} {path} is documented but not routed"));
            }
        }
    }

    // A route that takes a JSON body refuses a request without one (415); the document names
    // a request schema for exactly those.
    for r in api_routes.iter().filter(|r| r.method == Method::Post) {
        let path = r.path.replace("{kommune}", "350").replace("{id}", "1");
        let csrf = c.csrf.clone();
        let status = c.post_form(&path, &[("csrf", &csrf)]).await.status;
        let takes_json = status == 415;
        let named = operation(r)["requestBody"]["content"]["application/json"]["schema"]["$ref"].is_string();
        if takes_json != named {
            failures.push(format!(
                "POST {}: takes a JSON body: {takes_json} ({status}); request schema named: {named}",
                r.path
            ));
        }
    }

    // Every answer of every API route fits the schema the document names for its status.
    for r in &api_routes {
        let id = pending_links(store, kommune()).await[0];
        // Signing in or out needs a client of its own.
        let mut own;
        let client = match r.who {
            Who::Anyone => {
                own = Client::new(&server.base);
                &mut own
            }
            _ if r.path.ends_with("/logout") => {
                own = signed_in(&server.base, "sor_admin-350").await;
                &mut own
            }
            _ => &mut c,
        };
        if r.path.ends_with("/undo") {
            let actor = Actor::new("sor_admin-350".to_string());
            let _ = sorsync::review::decide(store, &actor, id, Decision::Reject, None).await;
        }
        let mut replies = vec![request(client, r, kommune(), id).await];
        if r.who != Who::Anyone {
            replies.push(request(&mut Client::new(&server.base), r, kommune(), id).await);
        }
        for reply in replies {
            let answer = &operation(r)["responses"][reply.status.to_string()];
            let at = format!("{} {} ({})", r.method.as_str(), r.path, reply.status);
            match serde_json::from_str::<Value>(&reply.body) {
                Ok(body) => match answer["content"]["application/json"]["schema"].as_object() {
                    None => failures.push(format!("{at}: answers JSON, but the document names no schema for it")),
                    Some(_) => check(&doc, &answer["content"]["application/json"]["schema"], &body, &at, &mut failures),
                },
                Err(_) if reply.status == 204 && answer.is_object() => {}
                Err(_) => failures.push(format!("{at}: not JSON: {}", reply.body)),
            }
        }
    }
    let waves = c.get("/api/waves").await.json();
    assert!(waves["report"]["waves"][0]["municipalities"][0]["readiness"].is_object(), "{waves}");
    assert!(failures.is_empty(), "the OpenAPI document:\n{}", failures.join("\n"));
}

async fn a_unit_named_like_a_script_is_shown_as_text_on_every_page(db: &TestDb) {
    let store = &db.store;
    populate(store).await;
    let server = start(store.clone()).await;
    let mut c = signed_in(&server.base, "sor_admin-350").await;
    let xss_unit = fk_id(kommune(), 10).to_string();
    let proposal = store
        .proposals(kommune(), Some(ProposalStatus::Pending))
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.key.fk_uuid.as_deref() == Some(xss_unit.as_str()))
        .expect("the script-named unit is proposed");
    let pages = [
        "/k/350/queue".to_string(),
        format!("/k/350/proposals/{}", proposal.id),
        "/k/350/bulk?threshold=0.5".to_string(),
        "/k/350/whatif?q=script".to_string(),
        format!("/k/350/whatif?unit={xss_unit}&action=close"),
        format!("/k/350/whatif?unit={xss_unit}&action=rename&name=%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
        "/k/350/contacts".to_string(),
    ];
    for page in &pages {
        let r = c.get(page).await;
        assert_eq!(r.status, 200, "{page}: {}", r.body);
        assert!(!r.body.contains(XSS), "{page} shows the raw tag");
        assert!(r.body.contains(XSS_ESCAPED), "{page} does not show the name as text");
    }
    // The audit log shows what was decided with which reason: a script-like reason stays text.
    let csrf = c.csrf.clone();
    let decide = format!("/k/350/proposals/{}/decide", proposal.id);
    let r = c.post_form(&decide, &[("csrf", &csrf), ("decision", "reject"), ("reason", XSS)]).await;
    assert_eq!(r.status, 303);
    let audit = c.get("/k/350/audit").await;
    assert_eq!(audit.status, 200);
    assert!(!audit.body.contains(XSS), "the audit log shows the raw tag");
    // The pages load no inline script at all, and say so to the browser.
    let r = c.get("/k/350/queue").await;
    assert!(!r.body.contains("<script>"), "inline script on the page");
    let csp = reqwest::get(format!("{}/login", server.base)).await.unwrap();
    let policy = csp.headers().get("content-security-policy").unwrap().to_str().unwrap().to_string();
    assert!(policy.contains("script-src 'self'"), "{policy}");
}
