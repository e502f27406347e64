//! Tests: the web app speaks Danish first, completely. Every main page of a small municipality
//! (queue, proposals, what-if with warnings and drawing, contacts, audit, waves, an error page)
//! is crawled in Danish and must show no raw code and no English text from the catalogue's
//! English side; error pages keep the layout and offer the way back; form problems stay on the
//! page. Runs on SQLite and PostgreSQL.

use sorsync::web::i18n::CATALOGUE;

use crate::test_db::TestDb;
use crate::web::{fk_id, kommune, pending_links, populate, signed_in, start, Client};

on_sqlite_and_postgres!(
    every_main_page_in_danish_shows_no_raw_code_and_no_english_text,
    an_error_page_keeps_the_layout_speaks_danish_and_offers_the_way_back,
    bad_filters_and_dates_are_form_problems_on_the_page_and_names_choose_units,
    the_what_if_page_warns_about_old_dates_and_unplaceable_creates_and_shows_both_places_of_a_move,
    contacts_can_be_downloaded_and_the_audit_log_names_the_units,
);

/// Codes that must never be shown as they are.
const RAW_CODES: &[&str] = &[
    "write_back",
    "pending",
    "approved",
    "rejected",
    "superseded",
    "sor_admin",
    "org_admin",
    "read_only",
    "needs_attention",
    "kind_not_registered",
    "own_ean",
    "parent_not_linked",
    "unit_not_linked",
    "broken_link",
    "inherited_values",
    "no_effect",
    "first_review",
    "service_agreement",
    "auto_approve",
    "link_by_hand",
    "no_match",
    "create_new",
    "long_ago",
    "closure_limit",
];

/// The text a user reads: tags, scripts and styles out, a few entities decoded.
fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        let after = &rest[open..];
        let skip_to = ["<style", "<script"].iter().find(|t| after.starts_with(**t)).map(|t| {
            let close = format!("</{}", &t[1..]);
            after.find(&close).unwrap_or(after.len())
        });
        let from = skip_to.unwrap_or(0);
        match after[from..].find('>') {
            Some(end) => rest = &after[from + end + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
}

/// Words, as a user would read them, separated by single spaces (codes like `sor_admin-350`
/// stay one word).
fn words(text: &str) -> String {
    let w: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    format!(" {} ", w.join(" "))
}

/// English phrases that must not appear on a Danish page: the catalogue's English side where it
/// differs from the Danish (phrases of 4 letters or more), and the preview's English templates'
/// fixed parts of three words or more.
fn english_phrases() -> Vec<String> {
    let mut out = Vec::new();
    for (key, da, en) in CATALOGUE {
        if *key == "language" || da == en {
            continue;
        }
        let w = words(en);
        if w.trim().len() >= 4 && !words(da).contains(&w) {
            out.push(w);
        }
    }
    for (_, template) in sorsync::preview::ENGLISH {
        for part in template.split(['{', '}']).step_by(2) {
            let w = words(part);
            if w.split_whitespace().count() >= 3 {
                out.push(w);
            }
        }
    }
    out
}

/// What is wrong with a Danish page: raw codes and English phrases it shows.
fn not_danish(page: &str) -> Vec<String> {
    let text = words(&visible_text(page));
    let mut found: Vec<String> =
        RAW_CODES.iter().filter(|c| text.contains(&format!(" {c} "))).map(|c| format!("code {c}")).collect();
    for phrase in english_phrases() {
        if text.contains(&phrase) {
            found.push(format!("English {:?}", phrase.trim()));
        }
    }
    found
}

async fn danish_page(c: &mut Client, path: &str) -> String {
    let r = c.get(path).await;
    assert!(r.status == 200 || r.status == 404, "{path}: {} {}", r.status, r.body);
    let problems = not_danish(&r.body);
    assert!(problems.is_empty(), "{path} is not all Danish: {problems:?}\n{}", visible_text(&r.body));
    r.body
}

async fn store_plan(store: &sorsync::store::Store) {
    let plan = r#"
[[wave]]
name = "first"

[[wave.municipality]]
name = "Testby"
kommunekode = "350"
cvr = "64942212"
status = "pilot"
"#;
    let plan = sorsync::waves::plan::parse_plan(plan, "plan.toml").unwrap();
    sorsync::waves::runner::store_plan(store, &plan, "plan.toml").await.unwrap();
}

async fn every_main_page_in_danish_shows_no_raw_code_and_no_english_text(db: &TestDb) {
    populate(&db.store).await;
    store_plan(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut admin = signed_in(&server.base, "sor_admin-350").await;
    let ids = pending_links(&db.store, kommune()).await;
    // Some decisions, so that the audit log, the overview and the what-if have something to show.
    let csrf = admin.csrf.clone();
    let half: Vec<String> = ids[..ids.len() / 2].iter().map(i64::to_string).collect();
    assert_eq!(admin.post_form("/k/350/bulk", &[("csrf", &csrf), ("ids", &half.join(","))]).await.status, 303);

    let home = danish_page(&mut admin, "/").await;
    assert!(home.contains("Testby (350)") && home.contains("SOR-administrator"), "{home}");
    danish_page(&mut admin, "/k/350").await;
    let queue = danish_page(&mut admin, "/k/350/queue").await;
    assert!(queue.contains("Kobling"), "kinds in words");
    danish_page(&mut admin, &format!("/k/350/proposals/{}", ids[0])).await;
    danish_page(&mut admin, &format!("/k/350/proposals/{}", ids[ids.len() - 1])).await;
    let evigglad = fk_id(kommune(), 3);
    let close = danish_page(&mut admin, &format!("/k/350/whatif?unit={evigglad}&action=close&date=2026-12-31")).await;
    assert!(close.contains("1 nedlægges"), "{}", visible_text(&close));
    assert!(close.contains("nedlagt") && close.contains("flyttes hertil"), "the drawing's legend in Danish");
    danish_page(&mut admin, &format!("/k/350/whatif?unit={evigglad}&action=close&date=1999-01-01")).await;
    let department = fk_id(kommune(), 2);
    danish_page(&mut admin, &format!("/k/350/whatif?unit={evigglad}&action=move&under={department}")).await;
    danish_page(&mut admin, &format!("/k/350/whatif?unit={evigglad}&action=create&name=Ny+afdeling")).await;
    danish_page(&mut admin, &format!("/k/350/whatif?unit={evigglad}&action=rename&name=Evigglad+Nord")).await;
    danish_page(&mut admin, "/k/350/contacts").await;
    let audit = danish_page(&mut admin, "/k/350/audit").await;
    assert!(!audit.contains(".000Z") && !audit.contains("T0") && !audit.contains("T1"), "raw timestamps");
    let waves = danish_page(&mut admin, "/waves").await;
    assert!(waves.contains("1 kommune ") && waves.contains("/5"), "{}", visible_text(&waves));
    danish_page(&mut admin, "/k/350/wave").await;
    danish_page(&mut admin, "/k/350/proposals/999999").await;
    danish_page(&mut admin, "/k/350/queue?kind=nonsense&page=9").await;
    let mut reader = signed_in(&server.base, "read_only-350").await;
    let queue = danish_page(&mut reader, "/k/350/queue").await;
    assert!(!queue.contains("a godkend"), "the keyboard hint offers approving to a reader");
    let mut anon = Client::new(&server.base);
    danish_page(&mut anon, "/login").await;
    // And English is complete the other way round: the English pages show the English words.
    let en = admin.get("/k/350/queue?lang=en").await.body;
    assert!(en.contains("Review queue") && en.contains(">Link<"), "{}", visible_text(&en));
}

async fn an_error_page_keeps_the_layout_speaks_danish_and_offers_the_way_back(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut admin = signed_in(&server.base, "sor_admin-350").await;
    let r = admin.get("/k/350/proposals/999999").await;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("Fejl 404"), "{}", r.body);
    assert!(r.body.contains("href=\"/k/350/queue\""), "the navigation is kept: {}", r.body);
    assert!(r.body.contains("Log ud"), "the header is kept");
    assert!(r.body.contains("id=\"back\""), "a way back");
    assert!(!r.body.contains("not found"), "English under the Danish heading");
    let en = admin.get("/k/350/proposals/999999?lang=en").await;
    assert!(en.body.contains("Error 404") && en.body.contains("proposal 999999"), "{}", en.body);
    // Another municipality's page: refused, in the layout, without its navigation.
    let other = admin.get("/k/360/queue").await;
    assert_eq!(other.status, 403);
    assert!(other.body.contains("Fejl 403") && !other.body.contains("href=\"/k/360/queue\""));
}

async fn bad_filters_and_dates_are_form_problems_on_the_page_and_names_choose_units(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut admin = signed_in(&server.base, "sor_admin-350").await;
    let r = admin.get("/k/350/queue?kind=nonsense&band=odd").await;
    assert_eq!(r.status, 200, "a bad filter is no error page");
    assert!(r.body.contains("Ukendt slags") && r.body.contains("Ukendt sikkerhedsniveau"), "{}", r.body);
    let r = admin.get("/k/350/queue?page=9").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("id=\"clamped\"") && r.body.contains("Side 1 af 1"), "{}", r.body);
    // The subtree filter takes a name.
    let r = admin.get("/k/350/queue?subtree=Evigglad").await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("form-problem"), "{}", r.body);
    assert!(r.body.contains("Plejecenter Evigglad") && !r.body.contains("Plejecenter Bakkehuset"), "{}", r.body);
    // "Open" carries the filter, and the proposal page's "Back" returns to it.
    let open = crate::web::between(&r.body, "class=\"open\" href=\"", "\"").replace("&amp;", "&");
    let detail = admin.get(&open).await;
    assert_eq!(detail.status, 200, "{open}");
    let back = crate::web::between(&detail.body, "id=\"back\" href=\"", "\"");
    assert!(back.contains("subtree=Evigglad"), "{back}");
    let r = admin.get("/k/350/audit?from=yesterday").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("ÅÅÅÅ-MM-DD"), "{}", r.body);
    // What-if: a unit and a new parent by name.
    let r = admin.get("/k/350/whatif?unit=Plejecenter+Evigglad&action=move&uq=Testby+Kommune").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("id=\"whatif-summary\""), "{}", r.body);
    let r = admin.get(&format!("/k/350/whatif?unit={}&action=close&date=31-12-2026", fk_id(kommune(), 3))).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("ÅÅÅÅ-MM-DD"));
}

async fn the_what_if_page_warns_about_old_dates_and_unplaceable_creates_and_shows_both_places_of_a_move(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut admin = signed_in(&server.base, "sor_admin-350").await;
    // Nothing linked yet: nothing can be created in SOR under the municipality.
    let root = fk_id(kommune(), 1);
    let create = admin.get(&format!("/k/350/whatif?unit={root}&action=create&name=Ny+enhed")).await.body;
    assert!(create.contains("id=\"nothing-in-sor\""), "{create}");
    assert!(create.contains("0 oprettes"), "not counted as created: {create}");
    let ids: Vec<String> = pending_links(&db.store, kommune()).await.iter().map(i64::to_string).collect();
    let csrf = admin.csrf.clone();
    assert_eq!(admin.post_form("/k/350/bulk", &[("csrf", &csrf), ("ids", &ids.join(","))]).await.status, 303);
    let unit = fk_id(kommune(), 3);
    let old = admin.get(&format!("/k/350/whatif?unit={unit}&action=close&date=1999-06-01")).await.body;
    assert!(old.contains("Dato langt tilbage"), "{old}");
    let today = admin.get(&format!("/k/350/whatif?unit={unit}&action=close")).await.body;
    let calendar = chrono::Local::now().date_naive().format("%-d.%-m.%Y").to_string();
    assert!(today.contains(&calendar), "an empty date is today ({calendar})");
    let other_home = fk_id(kommune(), 4);
    let moved = admin.get(&format!("/k/350/whatif?unit={unit}&action=move&under={other_home}")).await.body;
    assert!(moved.contains("Nuværende placering") && moved.contains("Ny placering"), "{moved}");
    assert!(moved.contains("Sundhed og Ældre") && moved.contains("Plejehjemmet Solgården"), "{moved}");
    // "… N more" opens: one level more shows the other care homes.
    let closed = admin.get(&format!("/k/350/whatif?unit={unit}&action=close&date=2026-12-31")).await.body;
    let drawing = crate::web::between(&closed, "id=\"whatif-drawing\"", "</svg>");
    assert!(drawing.contains("flere") && !drawing.contains("Plejecenter Egevang"), "{drawing}");
    assert!(closed.contains("id=\"open-more\""));
    let opened = admin.get(&format!("/k/350/whatif?unit={unit}&action=close&date=2026-12-31&open=1")).await.body;
    let drawing = crate::web::between(&opened, "id=\"whatif-drawing\"", "</svg>");
    assert!(drawing.contains("Plejecenter Egevang"), "{drawing}");
    // Only the fields of the chosen action are shown.
    let form = crate::web::between(&moved, "<form class=\"whatif\"", "</form>");
    assert!(form.contains("data-actions=\"close\" hidden"), "{form}");
}

async fn contacts_can_be_downloaded_and_the_audit_log_names_the_units(db: &TestDb) {
    populate(&db.store).await;
    let server = start(db.store.clone()).await;
    let mut admin = signed_in(&server.base, "sor_admin-350").await;
    let page = admin.get("/k/350/contacts").await.body;
    assert!(page.contains("contacts.csv") && page.contains("contacts.xlsx"));
    assert!(page.contains("<th>Rolle</th>") || page.contains("Ingen."), "{page}");
    let csv = admin.get("/k/350/contacts.csv").await;
    assert_eq!(csv.status, 200);
    let xlsx = admin.get("/k/350/contacts.xlsx").await;
    assert_eq!(xlsx.status, 200);
    let ids = pending_links(&db.store, kommune()).await;
    let csrf = admin.csrf.clone();
    let r =
        admin.post_form(&format!("/k/350/proposals/{}/act", ids[0]), &[("csrf", &csrf), ("action", "no_match")]).await;
    assert_eq!(r.status, 303);
    let audit = admin.get("/k/350/audit").await.body;
    let row = crate::web::between(&audit, &format!("/proposals/{}\"", ids[0]), "</tr>");
    let named = ["Testby Kommune", "Sundhed og Ældre", "Plejecenter", "Plejehjemmet"].iter().any(|n| row.contains(n));
    assert!(named, "no unit name beside the number: {row}");
    assert!(row.contains("Afvist") && !row.contains("{"), "before/after in words: {row}");
    assert!(audit.contains("Intet match"), "{audit}");
}
