//! The stand-in speaks enough HTTP/1.1 for the SDK: keep-alive, routing by X-Amz-Target,
//! scripted sequences and pages, AWS error bodies, and it stops promptly with a connection hung.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use aws_stand_in::{CONFIG, Reply, StandIn, pages, sequence};
use serde_json::{Value, json};

/// Sends one JSON 1.1 request on `stream` and reads the answer: (status, body).
fn call(stream: &mut TcpStream, target: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    write!(
        stream,
        "POST / HTTP/1.1\r\nhost: 127.0.0.1\r\nx-amz-target: {target}\r\n\
         authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/config/aws4_request, SignedHeaders=host, Signature=0\r\n\
         content-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

fn connect(aws: &StandIn) -> TcpStream {
    TcpStream::connect(aws.endpoint().trim_start_matches("http://")).unwrap()
}

#[test]
fn routes_by_target_and_keeps_the_connection_alive() {
    let aws = StandIn::start().unwrap();
    aws.on(
        "ListDiscoveredResources",
        Reply::json(json!({"by": "operation"})),
    );
    aws.on(
        &format!("{CONFIG}.ListDiscoveredResources"),
        sequence([Reply::throttle(), Reply::json(json!({"by": "target"}))]),
    );
    let mut stream = connect(&aws);
    let target = format!("{CONFIG}.ListDiscoveredResources");
    let (status, body) = call(&mut stream, &target, &json!({}));
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"__type": "ThrottlingException", "message": "Rate exceeded"})
    );
    // The same connection, the next reply of the sequence, and the last one repeats.
    assert_eq!(
        call(&mut stream, &target, &json!({})).1,
        json!({"by": "target"})
    );
    assert_eq!(
        call(&mut stream, &target, &json!({})).1,
        json!({"by": "target"})
    );
    // Another service's operation of the same name falls back to the operation route.
    let other = "Other.ListDiscoveredResources";
    assert_eq!(
        call(&mut stream, other, &json!({})).1,
        json!({"by": "operation"})
    );
    let (status, body) = call(&mut stream, &format!("{CONFIG}.Nope"), &json!({}));
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "UnknownOperationException");

    assert_eq!(aws.calls(&target), 3);
    assert_eq!(aws.calls("ListDiscoveredResources"), 4);
    let requests = aws.requests(&target);
    assert_eq!(
        requests.iter().map(|r| r.call).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(requests[0].region.as_deref(), Some("eu-west-1"));
    assert_eq!(aws.log().len(), 5);
}

#[test]
fn pages_follow_the_request_token() {
    let aws = StandIn::start().unwrap();
    let items: Vec<Value> = (0..5).map(|n| json!(n)).collect();
    aws.on("LookupEvents", pages("Events", "NextToken", items, 2));
    let mut stream = connect(&aws);
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let request = match &token {
            Some(t) => json!({"NextToken": t}),
            None => json!({}),
        };
        let (_, body) = call(&mut stream, "CloudTrail.LookupEvents", &request);
        seen.extend(body["Events"].as_array().unwrap().iter().cloned());
        match body.get("NextToken").and_then(Value::as_str) {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, (0..5).map(|n| json!(n)).collect::<Vec<_>>());
    let (status, body) = call(
        &mut stream,
        "CloudTrail.LookupEvents",
        &json!({"NextToken": "forged"}),
    );
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "InvalidNextTokenException");
}

#[test]
fn a_hung_connection_does_not_keep_the_stand_in_from_stopping() {
    let aws = StandIn::start().unwrap();
    aws.on("DescribeConfigurationRecorderStatus", Reply::Hang);
    let mut stream = connect(&aws);
    write!(
        stream,
        "POST / HTTP/1.1\r\nx-amz-target: {CONFIG}.DescribeConfigurationRecorderStatus\r\ncontent-length: 2\r\n\r\n{{}}"
    )
    .unwrap();
    while aws.calls("DescribeConfigurationRecorderStatus") == 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let start = Instant::now();
    drop(aws);
    assert!(start.elapsed() < Duration::from_secs(5));
    // The hung connection is closed, without an answer.
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut rest = Vec::new();
    assert_eq!(stream.read_to_end(&mut rest).unwrap(), 0);
}
