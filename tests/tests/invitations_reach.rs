//! Invitations that reach delegations (issue 15), through the pages, a real SMTP server and
//! Chromium: a contact point's account makes them the delegation's contact (or one click does),
//! the invitations page names the invited delegations nobody would reach and links to the fix,
//! organisers write the invitation's words per language, and the documents they attach arrive
//! as attachments.

use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders as _};
use plenary::mail::worker::{Worker, WorkerHandle};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{
    TestApp,
    browser::Browser,
    builders::{NewAccount, NewMeeting, date_in},
    expect_json,
    smtp::SmtpSink,
};

const DEADLINE: Duration = Duration::from_secs(60);
const ADMIN_PASSWORD: &str = "test-admin-password";

/// The service with mail going to `sink` and its worker running.
async fn app_with_mail(sink: &SmtpSink) -> (TestApp, Option<WorkerHandle>) {
    let url = sink.url();
    let app = TestApp::spawn_with(|config| {
        config.smtp_url = Some(url);
        config.mail_from = "OSCE Plenary <plenary@osce.example>".into();
        config.mail.retry_base_ms = 100;
        config.mail.poll_ms = 50;
    })
    .await;
    let worker = Worker::new(app.state.db.clone(), &app.state.config).expect("worker").map(Worker::spawn);
    (app, worker)
}

/// A Permanent Council meeting a month ahead: every participating State is invited.
async fn council_meeting(app: &TestApp) -> i64 {
    let token = app.organiser_token().await;
    NewMeeting::of("PC")
        .on(date_in(30), "10:00", "13:00")
        .room("HOFBURG-NEUER-SAAL")
        .forced()
        .create_id(app, &token)
        .await
}

async fn add_contact(app: &TestApp, iso2: &str, name: &str, email: &str, language: &str) {
    let token = app.organiser_token().await;
    let body = json!({"name": name, "email": email, "role": "contact_point", "language": language});
    expect_json(app.send(Method::POST, &format!("/api/v1/delegations/{iso2}/contacts"), &token, body).await, 201).await;
}

async fn contacts(app: &TestApp, iso2: &str) -> Vec<Value> {
    let token = app.organiser_token().await;
    let response = app.request(Method::GET, &format!("/api/v1/delegations/{iso2}/contacts")).bearer_auth(&token);
    let listed = expect_json(response.send().await.unwrap(), 200).await;
    listed.as_array().cloned().unwrap_or_else(|| listed["contacts"].as_array().cloned().expect("a list"))
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// A page as the user with `cookies` sees it: its status and HTML.
async fn get_page(app: &TestApp, path: &str, cookies: &str) -> (StatusCode, String) {
    let response = client().get(format!("{}{path}", app.base_url)).header("cookie", cookies).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn post_form(app: &TestApp, path: &str, cookies: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client().post(format!("{}{path}", app.base_url)).header("cookie", cookies).form(form).send().await.unwrap()
}

/// Follows a 303 as a browser would, with the flash cookie it sets: the page it leads to.
async fn follow(app: &TestApp, response: reqwest::Response, cookies: &str) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "a redirect");
    let to = response.headers()["location"].to_str().unwrap().to_owned();
    let flash: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    get_page(app, &to, &format!("{cookies}; {}", flash.join("; "))).await.1
}

fn hidden_csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// An organiser's session cookie and the CSRF token of their forms.
async fn organiser(app: &TestApp) -> (String, String) {
    let cookie = NewAccount::organiser("olga@osce.example", "Olga Organiser").session_cookie(app).await;
    let (_, html) = get_page(app, "/organiser/accounts", &cookie).await;
    (cookie.clone(), hidden_csrf(&html))
}

/// The received messages, parsed, that carry a calendar invitation (not the set-password mails).
async fn invitations_received(sink: &SmtpSink, total: usize) -> Vec<mail_parser::Message<'static>> {
    sink.wait_for(total, DEADLINE)
        .await
        .into_iter()
        .map(|bytes| MessageParser::default().parse(&bytes).expect("a MIME message").into_owned())
        .filter(|message| message.attachments().any(|part| part.attachment_name() == Some("invite.ics")))
        .collect()
}

fn to_of(message: &mail_parser::Message<'_>) -> String {
    message.to().and_then(|to| to.first()).and_then(|address| address.address()).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_contact_points_account_makes_them_the_delegations_contact_and_the_invitation_reaches_them() {
    let sink = SmtpSink::start();
    let (app, worker) = app_with_mail(&sink).await;
    let (cookie, csrf) = organiser(&app).await;
    let meeting = council_meeting(&app).await;
    // Austria already has Anna as a contact point; her account must not add her twice.
    add_contact(&app, "AT", "Anna Gruber", "anna@at.example", "en").await;

    let account = |username: &'static str, name: &'static str, state: &'static str, contact: bool| {
        let mut form = vec![
            ("csrf", csrf.clone()),
            ("username", username.to_owned()),
            ("display_name", name.to_owned()),
            ("role", "delegation".to_owned()),
            ("state", state.to_owned()),
            ("contact_language", "fr".to_owned()),
        ];
        if contact {
            form.push(("contact", "on".to_owned()));
        }
        form
    };
    let as_pairs = |form: &[(&'static str, String)]| form.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let send = |form: Vec<(&'static str, String)>| {
        let (app, cookie) = (&app, cookie.clone());
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(app, "/organiser/accounts", &cookie, &pairs).await
        }
    };

    // The box is ticked by default; creating Marie's account makes her France's contact point.
    let (_, blank) = get_page(&app, "/organiser/accounts", &cookie).await;
    assert!(blank.contains(r#"name="contact" id="acct-contact" value="on" checked"#), "ticked by default");
    let created = send(as_pairs(&account("marie@fr.example", "Marie Dupont", "FR", true))).await;
    assert_eq!(created.status(), StatusCode::OK);
    assert!(created.text().await.unwrap().contains("id=\"contact-added\""), "the page says so");
    let france = contacts(&app, "FR").await;
    assert_eq!(france.len(), 1, "{france:#?}");
    assert_eq!(france[0]["email"], "marie@fr.example");
    assert_eq!(france[0]["role"], "contact_point");
    assert_eq!(france[0]["language"], "fr");

    // Anna's account: she stays Austria's one contact.
    let anna = send(as_pairs(&account("anna@at.example", "Anna Gruber", "AT", true))).await;
    assert_eq!(anna.status(), StatusCode::OK);
    assert_eq!(contacts(&app, "AT").await.len(), 1, "no second contact with the same address");

    // Jan's account without the box: no contact, until "Add as contact" on the accounts page.
    let jan = send(as_pairs(&account("jan@cz.example", "Jan Novák", "CZ", false))).await;
    assert_eq!(jan.status(), StatusCode::OK);
    assert!(contacts(&app, "CZ").await.is_empty());
    let (_, accounts) = get_page(&app, "/organiser/accounts", &cookie).await;
    let offered: Vec<&str> = accounts.split("/contact\" class=\"inline add-contact\"").collect();
    assert_eq!(offered.len(), 2, "only Jan's account offers to add its holder as a contact");
    let jan_id = offered[0].rsplit("/organiser/accounts/").next().unwrap();
    let added = post_form(
        &app,
        &format!("/organiser/accounts/{jan_id}/contact"),
        &cookie,
        &[("csrf", &csrf), ("language", "en")],
    )
    .await;
    let page = follow(&app, added, &cookie).await;
    assert!(page.contains("Jan Novák (jan@cz.example) is now"), "{page}");
    assert_eq!(contacts(&app, "CZ").await.len(), 1);
    assert!(!page.contains("add-contact\""), "nobody left to add");
    let again = post_form(
        &app,
        &format!("/organiser/accounts/{jan_id}/contact"),
        &cookie,
        &[("csrf", &csrf), ("language", "en")],
    )
    .await;
    let refused = follow(&app, again, &cookie).await;
    assert!(refused.contains("already a contact"), "{refused}");
    assert_eq!(contacts(&app, "CZ").await.len(), 1);

    // The invitation reaches all three, in their language, linking their registration page.
    let (_, invitations) = get_page(&app, &format!("/organiser/meetings/{meeting}/invitations"), &cookie).await;
    assert!(!invitations.contains("data-state=\"FR\""), "France is reached");
    let sent = post_form(
        &app,
        &format!("/organiser/meetings/{meeting}/invitations"),
        &cookie,
        &[("csrf", &csrf), ("action", "send")],
    )
    .await;
    let flash = follow(&app, sent, &cookie).await;
    assert!(flash.contains("3 invitations are on their way."), "plural right");
    let received = invitations_received(&sink, 6).await;
    let mut to: Vec<String> = received.iter().map(to_of).collect();
    to.sort();
    assert_eq!(to, ["anna@at.example", "jan@cz.example", "marie@fr.example"]);
    let marie = received.iter().find(|message| to_of(message) == "marie@fr.example").unwrap();
    let text = marie.body_text(0).unwrap();
    assert!(text.contains("Bonjour Marie Dupont"), "{text}");
    assert!(text.contains(&format!("/meetings/{meeting}/registration")), "{text}");

    if let Some(worker) = worker {
        worker.stop().await;
    }
    app.stop().await;
}

#[tokio::test]
async fn the_invitations_page_names_the_delegations_nobody_would_reach_and_links_to_the_fix() {
    let sink = SmtpSink::start();
    let (app, worker) = app_with_mail(&sink).await;
    let (cookie, csrf) = organiser(&app).await;
    let meeting = council_meeting(&app).await;
    let path = format!("/organiser/meetings/{meeting}/invitations");

    let (_, page) = get_page(&app, &path, &cookie).await;
    assert!(page.contains("delegations will receive nothing"), "{page}");
    let austria = page.split("data-state=\"AT\"").nth(1).expect("Austria is listed").split("</li>").next().unwrap();
    assert!(austria.contains("Austria"), "named, not coded: {austria}");
    assert!(austria.contains("href=\"/organiser/accounts?state=AT#new-account\""), "{austria}");
    assert!(austria.contains("href=\"/delegation?state=AT#contacts\""), "{austria}");
    let nobody = page.split("id=\"nobody\"").nth(1).expect("nobody would receive it").split("</p>").next().unwrap();
    assert!(nobody.contains("href=\"#unreached\""), "{nobody}");

    // The fix link opens the accounts form for Austria.
    let (_, form) = get_page(&app, "/organiser/accounts?state=AT", &cookie).await;
    assert!(form.contains(r#"<option value="AT" selected>"#), "Austria is chosen");

    // Austria gets a contact: it leaves the list, and one invitation goes out.
    add_contact(&app, "AT", "Anna Gruber", "anna@at.example", "en").await;
    let (_, page) = get_page(&app, &path, &cookie).await;
    assert!(!page.contains("data-state=\"AT\""));
    assert!(page.contains("data-state=\"DE\""));
    assert!(page.contains("1 recipient:"), "singular");
    let sent = post_form(&app, &path, &cookie, &[("csrf", &csrf), ("action", "send")]).await;
    assert!(follow(&app, sent, &cookie).await.contains("1 invitation is on its way."));
    assert_eq!(invitations_received(&sink, 1).await.len(), 1);

    if let Some(worker) = worker {
        worker.stop().await;
    }
    app.stop().await;
}

#[tokio::test]
async fn an_edited_french_opening_arrives_in_the_french_mail_and_the_english_keeps_its_own() {
    let sink = SmtpSink::start();
    let (app, worker) = app_with_mail(&sink).await;
    let (cookie, csrf) = organiser(&app).await;
    let meeting = council_meeting(&app).await;
    add_contact(&app, "FR", "Marie Dupont", "marie@fr.example", "fr").await;
    add_contact(&app, "AT", "Anna Gruber", "anna@at.example", "en").await;
    let words = format!("/organiser/meetings/{meeting}/invitations/words");

    // The input policy: a bidi override is refused beside the field, the text kept.
    let hostile = "Madame, Monsieur,\u{202E} evil";
    let refused = post_form(
        &app,
        &words,
        &cookie,
        &[("csrf", &csrf), ("language", "fr"), ("subject", "Conseil permanent"), ("opening", hostile)],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.unwrap();
    assert!(page.contains("id=\"opening-fr-error\""), "the error is beside the opening");
    assert!(page.contains("value=\"Conseil permanent\""), "the subject typed is kept");

    let opening = "Madame, Monsieur,\n\nLa Présidence a l’honneur d’inviter votre délégation.";
    let subject = "Conseil permanent : invitation de la Présidence";
    let saved = post_form(
        &app,
        &words,
        &cookie,
        &[("csrf", &csrf), ("language", "fr"), ("subject", subject), ("opening", opening)],
    )
    .await;
    let page = follow(&app, saved, &cookie).await;
    assert!(page.contains("The French invitation’s words are saved"), "{page}");
    assert!(page.contains(subject), "the preview shows the subject");

    let sent = post_form(
        &app,
        &format!("/organiser/meetings/{meeting}/invitations"),
        &cookie,
        &[("csrf", &csrf), ("action", "send")],
    )
    .await;
    assert!(follow(&app, sent, &cookie).await.contains("2 invitations are on their way."));
    let received = invitations_received(&sink, 2).await;
    let marie = received.iter().find(|message| to_of(message) == "marie@fr.example").expect("the French mail");
    assert_eq!(marie.subject(), Some(subject));
    let text = marie.body_text(0).unwrap();
    assert!(text.contains("La Présidence a l’honneur d’inviter votre délégation."), "{text}");
    assert!(!text.contains("est invitée à la réunion suivante"), "the generated opening is replaced");
    assert!(text.contains("Réunion:"), "the facts stay generated");
    let anna = received.iter().find(|message| to_of(message) == "anna@at.example").expect("the English mail");
    assert!(anna.subject().unwrap().starts_with("Invitation: "), "{:?}", anna.subject());
    assert!(anna.body_text(0).unwrap().contains("is invited to the following meeting"));

    if let Some(worker) = worker {
        worker.stop().await;
    }
    app.stop().await;
}

/// A `multipart/form-data` body with the CSRF token and one file, as a browser sends it.
fn upload(csrf: &str, filename: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----plenary-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn attach(
    app: &TestApp,
    cookie: &str,
    csrf: &str,
    meeting: i64,
    filename: &str,
    bytes: &[u8],
) -> reqwest::Response {
    let (content_type, body) = upload(csrf, filename, bytes);
    client()
        .post(format!("{}/organiser/meetings/{meeting}/documents", app.base_url))
        .header("cookie", cookie)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A delegation's contact point, logged in with a valid CSRF token of their own, may neither
/// attach nor remove a meeting's documents nor write the invitation's words.
#[tokio::test]
async fn only_organisers_attach_remove_documents_and_write_the_invitation() {
    let app = TestApp::spawn().await;
    let (organiser_cookie, organiser_csrf) = organiser(&app).await;
    let meeting = council_meeting(&app).await;
    let pdf = b"%PDF-1.4\n%%EOF\n";
    let attached = attach(&app, &organiser_cookie, &organiser_csrf, meeting, "Agenda.pdf", pdf).await;
    follow(&app, attached, &organiser_cookie).await;
    let (_, page) = get_page(&app, &format!("/meetings/{meeting}"), "").await;
    let document = page.split("/documents/").nth(1).expect("a document link").split('/').next().unwrap().to_owned();

    let cookie = NewAccount::delegation("anna@at.example", "Anna Gruber", "AT").session_cookie(&app).await;
    let (_, html) = get_page(&app, "/delegation", &cookie).await;
    let csrf = hidden_csrf(&html);
    let refused = attach(&app, &cookie, &csrf, meeting, "Other.pdf", pdf).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let remove = format!("/organiser/meetings/{meeting}/documents/{document}/remove");
    assert_eq!(post_form(&app, &remove, &cookie, &[("csrf", &csrf)]).await.status(), StatusCode::FORBIDDEN);
    let words = format!("/organiser/meetings/{meeting}/invitations/words");
    let form = [("csrf", csrf.as_str()), ("language", "en"), ("subject", "Hijacked"), ("opening", "Hello")];
    assert_eq!(post_form(&app, &words, &cookie, &form).await.status(), StatusCode::FORBIDDEN);
    let (_, page) = get_page(&app, &format!("/meetings/{meeting}"), "").await;
    assert!(page.contains("Agenda.pdf") && !page.contains("Other.pdf"), "{page}");
    app.stop().await;
}

#[tokio::test]
async fn an_attached_pdf_is_listed_downloaded_and_arrives_as_an_attachment() {
    let sink = SmtpSink::start();
    let (app, worker) = app_with_mail(&sink).await;
    let (cookie, csrf) = organiser(&app).await;
    let meeting = council_meeting(&app).await;
    add_contact(&app, "AT", "Anna Gruber", "anna@at.example", "en").await;
    let pdf: Vec<u8> =
        [b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".as_slice(), &(0..=255).collect::<Vec<u8>>(), b"\n%%EOF\n"].concat();

    // Refusals land beside the file field, in words.
    let exe = attach(&app, &cookie, &csrf, meeting, "setup.exe", b"MZ\x90\x00").await;
    assert_eq!(exe.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(exe.text().await.unwrap().contains("Only PDF, DOCX, ODT, XLSX and TXT files can be attached"));
    let fake = attach(&app, &cookie, &csrf, meeting, "agenda.pdf", b"MZ\x90\x00").await;
    assert_eq!(fake.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(fake.text().await.unwrap().contains("its content is not a PDF file"));
    for size in [7 * 1024 * 1024 + 1, 11 * 1024 * 1024] {
        let large = [b"%PDF-1.4\n".as_slice(), &vec![b'x'; size - 9]].concat();
        let refused = attach(&app, &cookie, &csrf, meeting, "large.pdf", &large).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{size} bytes");
        assert!(refused.text().await.unwrap().contains("larger than 7 MB"), "{size} bytes");
    }
    let forged = attach(&app, &cookie, "not-the-token", meeting, "agenda.pdf", &pdf).await;
    assert!(forged.status().is_client_error(), "the upload needs its CSRF token");

    let attached = attach(&app, &cookie, &csrf, meeting, "C:\\Users\\olga\\Agenda – Amman 2027.pdf", &pdf).await;
    let page = follow(&app, attached, &cookie).await;
    assert!(page.contains("Agenda Amman 2027.pdf is attached"), "{page}");

    // Listed on the meeting's page for any visitor, at a stable address.
    let (_, public) = get_page(&app, &format!("/meetings/{meeting}"), "").await;
    let href = public.split("<a href=\"/meetings/").find(|part| part.contains("/documents/")).expect("a document link");
    let url = format!("/meetings/{}", href.split('"').next().unwrap());
    assert!(url.ends_with("/Agenda%20Amman%202027.pdf"), "{url}");
    let download = client().get(format!("{}{url}", app.base_url)).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "application/pdf");
    assert!(download.headers()["content-disposition"].to_str().unwrap().contains("Agenda Amman 2027.pdf"));
    assert_eq!(download.bytes().await.unwrap().as_ref(), pdf.as_slice());

    // The invitation carries it, with its name and its bytes.
    let sent = post_form(
        &app,
        &format!("/organiser/meetings/{meeting}/invitations"),
        &cookie,
        &[("csrf", &csrf), ("action", "send")],
    )
    .await;
    assert!(follow(&app, sent, &cookie).await.contains("1 invitation is on its way."));
    let received = invitations_received(&sink, 1).await;
    // The inline calendar part has no name; the named ones are the files.
    let names: Vec<&str> = received[0].attachments().filter_map(|part| part.attachment_name()).collect();
    assert_eq!(names, ["invite.ics", "Agenda Amman 2027.pdf"]);
    let agenda =
        received[0].attachments().find(|part| part.attachment_name() == Some("Agenda Amman 2027.pdf")).unwrap();
    assert_eq!(
        agenda.content_type().map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default())).as_deref(),
        Some("application/pdf")
    );
    assert_eq!(agenda.contents(), pdf.as_slice());

    // The update after a change carries it too.
    let token = app.organiser_token().await;
    let renamed = app
        .request(Method::PATCH, &format!("/api/v1/meetings/{meeting}"))
        .bearer_auth(&token)
        .json(&json!({"title": "Permanent Council (special session)"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    let received = invitations_received(&sink, 2).await;
    assert_eq!(received.len(), 2, "the invitation and its update");
    let update = received
        .iter()
        .find(|message| message.subject().unwrap_or_default().contains("special session"))
        .expect("the update names the new title");
    let names: Vec<&str> = update.attachments().filter_map(|part| part.attachment_name()).collect();
    assert_eq!(names, ["invite.ics", "Agenda Amman 2027.pdf"]);

    // Removed: gone from the meeting's page and its address.
    let id = url.split("/documents/").nth(1).unwrap().split('/').next().unwrap();
    let removed =
        post_form(&app, &format!("/organiser/meetings/{meeting}/documents/{id}/remove"), &cookie, &[("csrf", &csrf)])
            .await;
    assert!(follow(&app, removed, &cookie).await.contains("is removed from the meeting"));
    let (_, public) = get_page(&app, &format!("/meetings/{meeting}"), "").await;
    assert!(!public.contains("/documents/"));
    assert_eq!(client().get(format!("{}{url}", app.base_url)).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // Every document goes with every invitation: together they stay under what mail servers take.
    let six_megabytes = [b"%PDF-1.4\n".as_slice(), &vec![b'x'; 6 * 1024 * 1024]].concat();
    let heavy = attach(&app, &cookie, &csrf, meeting, "Annex.pdf", &six_megabytes).await;
    assert!(follow(&app, heavy, &cookie).await.contains("Annex.pdf is attached"));
    let refused = attach(&app, &cookie, &csrf, meeting, "Annex 2.pdf", &six_megabytes).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let said = refused.text().await.unwrap();
    assert!(said.contains("documents may weigh 7 MB in all, as they go with every invitation; 1023 KB left"), "{said}");

    if let Some(worker) = worker {
        worker.stop().await;
    }
    app.stop().await;
}

#[tokio::test]
async fn an_organiser_creates_a_contact_points_account_and_sees_who_the_invitation_misses_in_chromium() {
    let app = TestApp::spawn().await;
    let meeting = council_meeting(&app).await;
    let browser = Browser::start(&app.base_url).await;
    browser.log_in("admin", ADMIN_PASSWORD).await;

    // The invitations page says who would get nothing, and the fix link opens the form for them.
    browser.goto(&format!("/organiser/meetings/{meeting}/invitations")).await;
    browser.wait_for_text("#unreached", "delegations will receive nothing").await;
    browser.wait_for_text("#nobody", "Nobody would receive it").await;
    // A long list starts folded.
    browser.click("#unreached summary").await;
    browser.click("#unreached li[data-state='AT'] a.fix-account").await;
    browser.wait_for_path("/organiser/accounts?state=AT").await;
    assert_eq!(browser.find("#acct-state").await.prop("value").await.unwrap().as_deref(), Some("AT"));
    assert_eq!(browser.find("#acct-contact").await.prop("checked").await.unwrap().as_deref(), Some("true"));

    browser.fill("#acct-username", "anna@at.example").await;
    browser.fill("#acct-name", "Anna Gruber").await;
    browser.select("#acct-contact-language", "en").await;
    browser.click("#new-account button[type=submit]").await;
    browser.wait_for_text("#contact-added", "contact point").await;
    browser.screenshot("account-makes-contact").await;

    // Back on the invitations page: Austria is reached, its contact previewed.
    browser.goto(&format!("/organiser/meetings/{meeting}/invitations")).await;
    browser.wait_for_text("#send-title + p", "1 recipient:").await;
    assert!(browser.find_all("#unreached li[data-state='AT']").await.is_empty(), "Austria is reached");
    assert!(!browser.find_all("#unreached li[data-state='DE']").await.is_empty(), "Germany is not");
    browser.wait_for_text(".recipients", "anna@at.example").await;
    browser.screenshot("invitations-unreached").await;
    browser.close().await;
    app.stop().await;
}
