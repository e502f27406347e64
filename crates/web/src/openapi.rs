//! The OpenAPI 3.0 document of the JSON API, generated from the route table
//! ([`crate::routes::ROUTES`]): every API route with who may call it, the page it mirrors, its
//! path and query parameters, and the JSON Schemas of the bodies it takes and answers (derived
//! from their Rust types with schemars).

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::api::ErrorBody;
use crate::routes::{Route, ROUTES};

/// The OpenAPI document itself, as `GET /api/openapi.json` answers it.
#[derive(Debug)]
pub struct OpenApiDocument;

impl JsonSchema for OpenApiDocument {
    fn schema_name() -> Cow<'static, str> {
        "OpenApiDocument".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An OpenAPI 3.0 document (this one).",
            "type": "object",
            "required": ["openapi", "info", "paths"],
            "properties": {
                "openapi": {"type": "string"},
                "info": {"type": "object"},
                "paths": {"type": "object"},
                "components": {"type": "object"},
                "security": {"type": "array"}
            }
        })
    }
}

/// The path parameters of `path`: `{kommune}` (three digits) and `{id}` (a proposal or case).
fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let schema = if name == "id" {
                json!({"type": "integer"})
            } else {
                json!({"type": "string", "pattern": "^[0-9]{3}$"})
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect()
}

/// The query parameters of a query type: one per property of its (object) schema.
fn query_parameters(query: Schema) -> Vec<Value> {
    let Some(properties) = query.get("properties").and_then(Value::as_object) else { return Vec::new() };
    properties
        .iter()
        .map(|(name, schema)| {
            let mut schema = schema.clone();
            let description = schema.as_object_mut().and_then(|s| s.remove("description"));
            let mut parameter = json!({"name": name, "in": "query", "required": false, "schema": schema});
            if let Some(d) = description {
                parameter["description"] = d;
            }
            parameter
        })
        .collect()
}

fn json_content(schema: Schema) -> Value {
    json!({"application/json": {"schema": schema}})
}

/// The operation of one API route.
fn operation(
    r: &Route,
    requests: &mut SchemaGenerator,
    responses: &mut SchemaGenerator,
    queries: &mut SchemaGenerator,
) -> Value {
    let Some(api) = r.api() else { return Value::Null };
    let csrf = if r.needs_csrf() { "; X-CSRF-Token" } else { "" };
    let mirrors = api.mirrors.map(|p| format!(" Mirrors the page {p}.")).unwrap_or_default();
    let mut parameters = path_parameters(r.path);
    if let Some(query) = &api.query {
        parameters.extend(query_parameters((query.root)(queries)));
    }
    let ok = match &api.response {
        Some(body) => {
            json!({"200": {"description": "OK (JSON)", "content": json_content((body.reference)(responses))}})
        }
        None => json!({"204": {"description": "Done (no content)"}}),
    };
    let error = json_content(responses.subschema_for::<ErrorBody>());
    let mut answers = ok;
    answers["401"] = json!({"description": "Not signed in", "content": error});
    answers["403"] = json!({"description": "Refused: role, municipality or CSRF token", "content": error});
    answers["404"] = json!({"description": "Not found", "content": error});
    let mut op = json!({
        "summary": r.summary,
        "description": format!("Who: {}{csrf}.{mirrors}", r.who.describe()),
        "parameters": parameters,
        "responses": answers,
    });
    if let Some(body) = &api.request {
        op["requestBody"] = json!({"required": true, "content": json_content((body.reference)(requests))});
    }
    if r.who == crate::routes::Who::Anyone {
        op["security"] = json!([]);
    }
    op
}

/// The API's paths, and the schemas of the bodies they take and answer (by name).
struct Generated {
    paths: Map<String, Value>,
    requests: Map<String, Value>,
    responses: Map<String, Value>,
}

fn generate() -> Generated {
    // Requests are described as they are read, responses as they are written.
    let mut requests = SchemaSettings::openapi3().for_deserialize().into_generator();
    let mut responses = SchemaSettings::openapi3().for_serialize().into_generator();
    let mut queries =
        SchemaSettings::openapi3().for_deserialize().with(|s| s.inline_subschemas = true).into_generator();
    let mut paths = Map::new();
    for r in ROUTES.iter().filter(|r| r.api().is_some()) {
        let op = operation(r, &mut requests, &mut responses, &mut queries);
        if let Some(entry) = paths.entry(r.path).or_insert_with(|| json!({})).as_object_mut() {
            entry.insert(r.method.as_str().to_lowercase(), op);
        }
    }
    Generated { paths, requests: requests.take_definitions(true), responses: responses.take_definitions(true) }
}

/// The OpenAPI 3.0 document.
pub fn document() -> Value {
    let Generated { paths, requests, mut responses } = generate();
    // No type is both read and written today; one that were would be described as written.
    for (name, schema) in requests {
        responses.entry(name).or_insert(schema);
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "sorsync web API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Mirrors the web app's pages. Session cookie from POST /api/login; mutating calls need the X-CSRF-Token header."},
        "components": {
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": super::auth::SESSION_COOKIE}},
            "schemas": Value::Object(responses)
        },
        "security": [{"session": []}],
        "paths": Value::Object(paths)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::Method;

    /// Every `$ref` in `v`.
    fn references(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.clone());
                }
                map.values().for_each(|v| references(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| references(v, out)),
            _ => {}
        }
    }

    /// The name of the schema `content` refers to, when the document has it.
    fn schema_name(doc: &Value, content: &Value) -> Option<String> {
        let r = content["application/json"]["schema"]["$ref"].as_str()?;
        let name = r.strip_prefix("#/components/schemas/")?;
        doc["components"]["schemas"].get(name).map(|_| name.to_string())
    }

    #[test]
    fn every_api_route_of_the_table_is_documented_with_the_bodies_it_takes_and_answers() {
        let doc = document();
        let mut documented = 0;
        for r in ROUTES {
            let op = &doc["paths"][r.path][r.method.as_str().to_lowercase()];
            let Some(api) = r.api() else {
                assert!(op.is_null(), "the page {} {} is in the API document", r.method.as_str(), r.path);
                continue;
            };
            documented += 1;
            assert!(op.is_object(), "{} {} is not documented", r.method.as_str(), r.path);
            assert_eq!(api.request.is_some(), schema_name(&doc, &op["requestBody"]["content"]).is_some(), "{}", r.path);
            match api.response {
                Some(_) => assert!(schema_name(&doc, &op["responses"]["200"]["content"]).is_some(), "{}", r.path),
                None => assert!(op["responses"]["204"].is_object(), "{}", r.path),
            }
            let csrf = op["description"].as_str().unwrap().contains("X-CSRF-Token");
            assert_eq!(csrf, r.method == Method::Post && r.path != "/api/login", "{}", r.path);
        }
        let operations: usize = doc["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(operations, documented, "the document has operations the table lacks");
    }

    #[test]
    fn every_schema_reference_in_the_document_resolves() {
        let doc = document();
        let mut refs = Vec::new();
        references(&doc, &mut refs);
        assert!(refs.len() > 40, "{refs:?}");
        for r in refs {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r} is not a component"));
            assert!(doc["components"]["schemas"].get(name).is_some(), "{r} names no schema");
        }
    }

    #[test]
    fn no_type_is_described_differently_as_a_request_and_as_a_response() {
        let Generated { requests, responses, .. } = generate();
        for (name, schema) in &requests {
            if let Some(other) = responses.get(name) {
                assert_eq!(schema, other, "{name} is read and written differently");
            }
        }
    }

    #[test]
    fn query_types_become_optional_query_parameters_with_their_descriptions() {
        let doc = document();
        let parameters = doc["paths"]["/api/k/{kommune}/queue"]["get"]["parameters"].as_array().unwrap();
        let band = parameters.iter().find(|p| p["name"] == "band").expect("band is a parameter");
        assert_eq!(band["in"], "query");
        assert_eq!(band["required"], false);
        assert_eq!(band["schema"]["type"], "string");
        assert!(band["description"].as_str().unwrap().contains("`high`"));
        assert!(parameters.iter().any(|p| p["name"] == "kommune" && p["in"] == "path"));
    }
}
