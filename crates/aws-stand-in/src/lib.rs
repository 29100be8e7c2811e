//! A stand-in for AWS services that speak the JSON 1.1 protocol (AWS Config, CloudTrail, …), for
//! tests: an HTTP/1.1 server on 127.0.0.1 whose answers the test scripts, operation by operation.
//! The real AWS SDK runs against it — its HTTP client, signing, retries and timeouts — so a test
//! sees what a user would see when AWS answers like that.
//!
//! - Requests are routed by their `X-Amz-Target` header: [`StandIn::on`] takes the whole target
//!   (`StarlingDoveService.ListDiscoveredResources`) or just the operation
//!   (`ListDiscoveredResources`).
//! - A route answers with a [`Reply`] — JSON, an AWS error, throttling, a delay, a hang, a body that
//!   stalls half-way, a closed connection — or with anything that implements [`Respond`]: a
//!   closure over the [`Request`], a [`sequence`] of replies (call 1, call 2, …, the last one
//!   repeated), or [`pages`] of items following the request's page token.
//! - Every request is recorded: [`StandIn::calls`] counts them, [`StandIn::requests`] returns them.
//! - [`config::Recorded`] answers the AWS Config calls `resilix audit` makes from a list of
//!   configuration items; a test then replaces one route to inject its fault.
//! - STS speaks the query protocol (a form-encoded `Action=AssumeRole&…` body, XML answers): its
//!   requests are routed by their `Action` like JSON ones by their target, with the form's
//!   fields as the request's JSON body. [`sts::Roles`] answers AssumeRole with credentials that
//!   name the account, so every later request says which account's role signed it
//!   ([`Request::account`]), and [`StandIn::account`] routes one account's requests apart:
//!   several accounts' AWS Config on one endpoint.
//!
//! ```no_run
//! use aws_stand_in::{Reply, StandIn, sequence};
//! use serde_json::json;
//!
//! let aws = StandIn::start().unwrap();
//! aws.on("DescribeConfigurationRecorderStatus", aws_stand_in::config::recording());
//! aws.on("ListDiscoveredResources", sequence([Reply::throttle(), Reply::json(json!({"resourceIdentifiers": []}))]));
//! aws.on("BatchGetResourceConfig", Reply::Hang);
//! // … point the SDK at aws.endpoint() …
//! assert_eq!(aws.calls("ListDiscoveredResources"), 2);
//! ```
//!
//! Dropping the [`StandIn`] stops it: hanging connections are closed, threads end.

pub mod cloudtrail;
pub mod config;
pub mod sts;

use std::collections::BTreeMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The `X-Amz-Target` prefix of AWS Config operations.
pub const CONFIG: &str = "StarlingDoveService";
/// The `X-Amz-Target` prefix of CloudTrail operations.
pub const CLOUDTRAIL: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";
/// The target the stand-in gives STS (query protocol) requests: this, `.`, their `Action`.
pub const STS: &str = "AWSSecurityTokenServiceV20110615";

/// A request larger than this is refused: nothing a test sends comes close.
const MAX_REQUEST: usize = 16 << 20;
/// How often a waiting connection checks whether the stand-in is stopping.
const POLL: Duration = Duration::from_millis(20);

/// One request, as the stand-in received it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The `X-Amz-Target` header: `StarlingDoveService.ListDiscoveredResources`.
    pub target: String,
    /// The operation: the target after its last `.` (`ListDiscoveredResources`).
    pub operation: String,
    /// The region of the request's SigV4 credential scope, when it was signed.
    pub region: Option<String>,
    /// The access key that signed it.
    pub access_key: Option<String>,
    /// The account whose role signed it: set when the access key is one the stand-in's STS
    /// handed out ([`sts::Roles`]).
    pub account: Option<String>,
    /// The JSON body (`null` when empty or not JSON).
    pub body: Value,
    /// 1 for the first request with this target, 2 for the second, …
    pub call: usize,
    /// When it was received, since the stand-in started.
    pub at: Duration,
}

impl Request {
    /// A field of the body.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.body.get(field)
    }

    /// A string field of the body.
    pub fn str(&self, field: &str) -> Option<&str> {
        self.body.get(field).and_then(Value::as_str)
    }
}

/// How the stand-in answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this JSON body.
    Json(Value),
    /// An AWS error: the status and a body with `__type` (the error code) and `message`.
    Error {
        status: u16,
        code: String,
        message: String,
    },
    /// Read the request, then say nothing and keep the connection open (until the stand-in is
    /// dropped): an endpoint that accepted the connection and never answers.
    Hang,
    /// Send the status line, the headers and half the body of this reply, then nothing more.
    Stall(Box<Reply>),
    /// An answer in XML, as the query protocol (STS) gives them: the status and the document.
    Xml { status: u16, body: String },
    /// Close the connection without answering.
    Close,
    /// Wait this long, then give the reply.
    After(Duration, Box<Reply>),
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(body: Value) -> Reply {
        Reply::Json(body)
    }

    /// 200 with the JSON of a fixture file.
    ///
    /// # Panics
    /// When the file cannot be read or is not JSON: the test is wrong, and says which file.
    #[allow(
        clippy::panic,
        reason = "test support: a broken fixture must fail the test loudly"
    )]
    pub fn file(path: impl AsRef<Path>) -> Reply {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("stand-in fixture {}: {e}", path.display()));
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("stand-in fixture {}: {e}", path.display()));
        Reply::Json(body)
    }

    /// An AWS error response.
    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply::Error {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }

    /// `ThrottlingException: Rate exceeded`, as AWS Config throttles.
    pub fn throttle() -> Reply {
        Reply::error(400, "ThrottlingException", "Rate exceeded")
    }

    /// This reply, after a delay.
    pub fn after(self, delay: Duration) -> Reply {
        Reply::After(delay, Box::new(self))
    }

    /// This reply's headers and half its body, then silence.
    pub fn stalled(self) -> Reply {
        Reply::Stall(Box::new(self))
    }

    /// The HTTP response, for the replies that have one.
    fn render(&self, id: usize) -> Option<Vec<u8>> {
        let (status, body, content_type) = match self {
            Reply::Json(body) => (200, body.to_string(), JSON_TYPE),
            Reply::Xml { status, body } => (*status, body.clone(), "text/xml"),
            Reply::Error {
                status,
                code,
                message,
            } => (
                *status,
                json!({"__type": code, "message": message}).to_string(),
                JSON_TYPE,
            ),
            Reply::Hang | Reply::Stall(_) | Reply::Close | Reply::After(..) => return None,
        };
        let reason = match status {
            200 => "OK",
            400 => "Bad Request",
            403 => "Forbidden",
            429 => "Too Many Requests",
            500 => "Internal Server Error",
            503 => "Service Unavailable",
            _ => "Status",
        };
        let mut out = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\n\
             content-length: {}\r\nx-amzn-requestid: stand-in-{id}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body.as_bytes());
        Some(out)
    }
}

const JSON_TYPE: &str = "application/x-amz-json-1.1";

/// Answers requests to one route.
pub trait Respond: Send + Sync + 'static {
    fn respond(&self, request: &Request) -> Reply;
}

/// Where routes go: the whole stand-in, or the requests of one account ([`StandIn::account`]).
/// The `install` of [`config::Recorded`], [`config::History`] and [`cloudtrail::Trail`] take
/// either.
pub trait Routes {
    /// Answers `target` (a whole target or an operation name) with `respond`.
    fn route(&self, target: &str, respond: Arc<dyn Respond>);
}

impl Routes for StandIn {
    fn route(&self, target: &str, respond: Arc<dyn Respond>) {
        lock(&self.shared.routes).insert(target.to_owned(), respond);
    }
}

/// The routes of one account's requests: those signed with the credentials the stand-in's STS
/// gave for a role of that account. They win over the stand-in's own routes.
pub struct Account<'a> {
    stand_in: &'a StandIn,
    id: String,
}

impl Account<'_> {
    /// Answers this account's requests to `target` with `respond`.
    pub fn on(&self, target: &str, respond: impl Respond) -> &Self {
        self.route(target, Arc::new(respond));
        self
    }
}

impl Routes for Account<'_> {
    fn route(&self, target: &str, respond: Arc<dyn Respond>) {
        lock(&self.stand_in.shared.routes).insert(account_route(&self.id, target), respond);
    }
}

fn account_route(account: &str, target: &str) -> String {
    format!("{account}/{target}")
}

/// The same reply every time.
impl Respond for Reply {
    fn respond(&self, _request: &Request) -> Reply {
        self.clone()
    }
}

/// A reply computed from the request.
impl<F> Respond for F
where
    F: Fn(&Request) -> Reply + Send + Sync + 'static,
{
    fn respond(&self, request: &Request) -> Reply {
        self(request)
    }
}

/// Replies in order, by call number; the last one answers every call after it.
#[derive(Debug, Clone)]
pub struct Sequence(Vec<Reply>);

/// The first call gets the first reply, the second the second, …; the last one repeats.
pub fn sequence(replies: impl IntoIterator<Item = Reply>) -> Sequence {
    Sequence(replies.into_iter().collect())
}

impl Respond for Sequence {
    fn respond(&self, request: &Request) -> Reply {
        self.0
            .get(request.call.saturating_sub(1))
            .or_else(|| self.0.last())
            .cloned()
            .unwrap_or_else(|| Reply::error(500, "InternalFailure", "an empty stand-in sequence"))
    }
}

/// Items served a page at a time: the request's token says where its page starts; the last page
/// has no token. A token the stand-in did not hand out is `InvalidNextTokenException`.
#[derive(Debug, Clone)]
pub struct Pages {
    list_field: String,
    token_field: String,
    items: Vec<Value>,
    page_size: usize,
}

/// Serves `items` as the list `list_field` of each page, `page_size` per page, with the page
/// token in `token_field` (AWS Config's List calls use `nextToken`, its Select calls and
/// CloudTrail `NextToken`) of both the request and the response.
pub fn pages(list_field: &str, token_field: &str, items: Vec<Value>, page_size: usize) -> Pages {
    Pages {
        list_field: list_field.to_owned(),
        token_field: token_field.to_owned(),
        items,
        page_size: page_size.max(1),
    }
}

impl Respond for Pages {
    fn respond(&self, request: &Request) -> Reply {
        match page(&self.items, request.str(&self.token_field), self.page_size) {
            Ok((items, next)) => page_reply(&self.list_field, items, &self.token_field, next),
            Err(reply) => reply,
        }
    }
}

/// `{LIST_FIELD: [items…], TOKEN_FIELD: next}`, the token left out on the last page.
pub fn page_reply(
    list_field: &str,
    items: Vec<Value>,
    token_field: &str,
    next: Option<String>,
) -> Reply {
    let mut body = serde_json::Map::new();
    body.insert(list_field.to_owned(), Value::Array(items));
    if let Some(next) = next {
        body.insert(token_field.to_owned(), Value::String(next));
    }
    Reply::Json(Value::Object(body))
}

/// One page of `items` from the one `token` starts at (none: the first), and the token of the
/// next page, if any. Tokens are `page-OFFSET`; any other is AWS's `InvalidNextTokenException`.
pub fn page(
    items: &[Value],
    token: Option<&str>,
    page_size: usize,
) -> Result<(Vec<Value>, Option<String>), Reply> {
    let start = match token {
        None | Some("") => 0,
        Some(token) => match token
            .strip_prefix("page-")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(start) if start < items.len() => start,
            _ => {
                return Err(Reply::error(
                    400,
                    "InvalidNextTokenException",
                    "The nextToken provided is invalid",
                ));
            }
        },
    };
    let end = start.saturating_add(page_size.max(1)).min(items.len());
    let next = (end < items.len()).then(|| format!("page-{end}"));
    Ok((items.get(start..end).unwrap_or_default().to_vec(), next))
}

struct Shared {
    started: Instant,
    routes: Mutex<BTreeMap<String, Arc<dyn Respond>>>,
    log: Mutex<Vec<Request>>,
    stopping: AtomicBool,
    responses: AtomicUsize,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding a lock must not hide what the others saw.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Waits `duration`, or less if the stand-in stops (then `false`).
    fn wait(&self, duration: Option<Duration>) -> bool {
        let start = Instant::now();
        loop {
            if self.stopping() {
                return false;
            }
            let step = match duration {
                Some(total) => match total.checked_sub(start.elapsed()) {
                    Some(left) if !left.is_zero() => left.min(POLL),
                    _ => return true,
                },
                None => POLL,
            };
            thread::sleep(step);
        }
    }

    fn dispatch(&self, raw: RawRequest) -> Reply {
        // A query-protocol request (STS) has no target: its form names the action.
        let (target, body) = match raw.target {
            Some(target) => (
                target,
                serde_json::from_slice(&raw.body).unwrap_or(Value::Null),
            ),
            None => {
                let form = form_fields(&raw.body);
                let action = form
                    .get("Action")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                (format!("{STS}.{action}"), form)
            }
        };
        let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
        let account = raw.access_key.as_deref().and_then(sts::account_of);
        let request = {
            let mut log = lock(&self.log);
            let call = log.iter().filter(|r| r.target == target).count() + 1;
            let request = Request {
                target,
                operation,
                region: raw.region,
                access_key: raw.access_key,
                account,
                body,
                call,
                at: self.started.elapsed(),
            };
            log.push(request.clone());
            request
        };
        let route = {
            let routes = lock(&self.routes);
            let own = |target: &str| {
                request
                    .account
                    .as_deref()
                    .and_then(|account| routes.get(&account_route(account, target)))
            };
            own(&request.target)
                .or_else(|| own(&request.operation))
                .or_else(|| routes.get(&request.target))
                .or_else(|| routes.get(&request.operation))
                .cloned()
        };
        match route {
            Some(route) => route.respond(&request),
            None => Reply::error(
                400,
                "UnknownOperationException",
                &format!(
                    "the stand-in has no answer for X-Amz-Target `{}`",
                    request.target
                ),
            ),
        }
    }
}

/// A scripted AWS endpoint on 127.0.0.1, stopped when dropped.
pub struct StandIn {
    address: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl StandIn {
    /// Listens on a free port of 127.0.0.1. Every operation answers `UnknownOperationException`
    /// until given a route.
    pub fn start() -> io::Result<StandIn> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            started: Instant::now(),
            routes: Mutex::default(),
            log: Mutex::default(),
            stopping: AtomicBool::new(false),
            responses: AtomicUsize::new(0),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("aws-stand-in".to_owned())
                .spawn(move || accept(&listener, &shared))?
        };
        Ok(StandIn {
            address,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The endpoint URL to give the SDK (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Answers `target` — a whole `X-Amz-Target` or just its operation name — with `respond`,
    /// replacing any earlier route for it. A whole target wins over an operation name.
    pub fn on(&self, target: &str, respond: impl Respond) -> &StandIn {
        self.route(target, Arc::new(respond));
        self
    }

    /// The routes of one account's requests (signed with credentials [`sts::Roles`] gave for
    /// a role in `id`): `aws.account("111111111111").on("ListDiscoveredResources", …)`.
    pub fn account(&self, id: &str) -> Account<'_> {
        Account {
            stand_in: self,
            id: id.to_owned(),
        }
    }

    /// How many requests were received for `target` (a whole target or an operation name).
    pub fn calls(&self, target: &str) -> usize {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.target == target || r.operation == target)
            .count()
    }

    /// The requests received for `target` (a whole target or an operation name), in order.
    pub fn requests(&self, target: &str) -> Vec<Request> {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.target == target || r.operation == target)
            .cloned()
            .collect()
    }

    /// Every request received, in order.
    pub fn log(&self) -> Vec<Request> {
        lock(&self.shared.log).clone()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the acceptor, which is blocked in accept().
        let _ = TcpStream::connect(self.address);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping() {
            return;
        }
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(shared);
        // Connection threads are not joined: each ends within POLL once the stand-in stops.
        let _ = thread::Builder::new()
            .name("aws-stand-in connection".to_owned())
            .spawn(move || serve(stream, &shared));
    }
}

struct RawRequest {
    /// The `X-Amz-Target` header; none for a query-protocol (STS) request.
    target: Option<String>,
    region: Option<String>,
    access_key: Option<String>,
    body: Vec<u8>,
    close: bool,
}

/// Answers the requests of one connection (HTTP/1.1 keep-alive: one after the other).
fn serve(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(POLL));
    let _ = stream.set_nodelay(true);
    let mut buffer = Vec::new();
    while let Some(raw) = read_request(&mut stream, &mut buffer, shared) {
        let close = raw.close;
        let reply = shared.dispatch(raw);
        if !send(&mut stream, &reply, shared) || close {
            return;
        }
    }
}

/// The next request on the connection; `None` when it closed, broke or the stand-in stops.
fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    shared: &Shared,
) -> Option<RawRequest> {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(buffer.get(..end)?).into_owned();
            let mut target = None;
            let mut region = None;
            let mut access_key = None;
            let mut length = 0usize;
            let mut close = false;
            for line in head.split("\r\n").skip(1) {
                let Some((name, value)) = line.split_once(':') else {
                    continue;
                };
                let value = value.trim();
                match name.trim().to_ascii_lowercase().as_str() {
                    "x-amz-target" => target = Some(value.to_owned()),
                    "content-length" => length = value.parse().ok()?,
                    "connection" => close = value.eq_ignore_ascii_case("close"),
                    "authorization" => {
                        region = signed_scope(value, 2);
                        access_key = signed_scope(value, 0);
                    }
                    _ => {}
                }
            }
            let total = end + 4 + length;
            if total > MAX_REQUEST {
                return None;
            }
            if buffer.len() >= total {
                let body = buffer.get(end + 4..total)?.to_vec();
                buffer.drain(..total);
                return Some(RawRequest {
                    target,
                    region,
                    access_key,
                    body,
                    close,
                });
            }
        } else if buffer.len() > MAX_REQUEST {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => buffer.extend_from_slice(chunk.get(..n)?),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if shared.stopping() {
                    return None;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

/// Part `n` of the credential of a SigV4 `Authorization` header,
/// `Credential=KEY/DATE/REGION/SERVICE/aws4_request`: 0 the access key, 2 the region.
fn signed_scope(authorization: &str, n: usize) -> Option<String> {
    let scope = authorization.split("Credential=").nth(1)?;
    let scope = scope.split([',', ' ']).next()?;
    scope.split('/').nth(n).map(str::to_owned)
}

/// The fields of a form-encoded body (`Action=AssumeRole&RoleArn=arn%3Aaws…`) as a JSON object
/// of strings.
fn form_fields(body: &[u8]) -> Value {
    let text = String::from_utf8_lossy(body);
    let fields = text
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), Value::String(percent_decode(value)))
        })
        .collect();
    Value::Object(fields)
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (byte, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Sends a reply; `false` when the connection is done (closed, hung, stalled, broken).
fn send(stream: &mut TcpStream, reply: &Reply, shared: &Shared) -> bool {
    let id = shared.responses.fetch_add(1, Ordering::Relaxed);
    match reply {
        Reply::Json(_) | Reply::Error { .. } | Reply::Xml { .. } => match reply.render(id) {
            Some(bytes) => stream
                .write_all(&bytes)
                .and_then(|()| stream.flush())
                .is_ok(),
            None => false,
        },
        Reply::Hang => {
            shared.wait(None);
            false
        }
        Reply::Stall(inner) => {
            if let Some(bytes) = inner.render(id) {
                let head = bytes
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map_or(0, |p| p + 4);
                let cut = head + (bytes.len() - head) / 2;
                let _ = stream
                    .write_all(bytes.get(..cut).unwrap_or_default())
                    .and_then(|()| stream.flush());
            }
            shared.wait(None);
            false
        }
        Reply::Close => false,
        Reply::After(delay, inner) => shared.wait(Some(*delay)) && send(stream, inner, shared),
    }
}
