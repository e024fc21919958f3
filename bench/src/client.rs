//! The load generator's HTTP/1.1 client: one keep-alive connection that writes a request
//! prepared once and reads each response by its framing, as wrk does.
//!
//! Everything the load generator spends comes out of the two cores the server under test
//! runs on. hyper's client builds a request and a header map per exchange and hands each
//! one between two tasks; this client parses only the status line and the headers that
//! say where a response ends (with httparse), so the same run leaves the server more room.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Connection {
    stream: TcpStream,
    /// Bytes read and not yet consumed by a response.
    unread: Vec<u8>,
}

impl Connection {
    pub async fn open(addr: SocketAddr) -> io::Result<Connection> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Connection { stream, unread: Vec::with_capacity(READ_SIZE) })
    }

    /// Sends `request` (a whole HTTP/1.1 request) and reads the whole response; its status.
    pub async fn exchange(&mut self, request: &[u8]) -> io::Result<u16> {
        self.stream.write_all(request).await?;
        loop {
            if let Some(Response { status, length }) = parse(&self.unread)? {
                self.unread.drain(..length);
                return Ok(status);
            }
            self.unread.reserve(READ_SIZE);
            if self.stream.read_buf(&mut self.unread).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }
}

const READ_SIZE: usize = 16 * 1024;

/// A request as bytes on the wire, built once and sent as often as a run needs.
pub fn request(method: &str, host: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {host}\r\n");
    if !body.is_empty() {
        head += &format!("content-type: application/json\r\ncontent-length: {}\r\n", body.len());
    }
    head += "\r\n";
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    request
}

#[derive(Debug, PartialEq)]
struct Response {
    status: u16,
    /// Bytes from the status line to the end of the body.
    length: usize,
}

/// The first response in `bytes`, once all of it is there.
fn parse(bytes: &[u8]) -> io::Result<Option<Response>> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut head = httparse::Response::new(&mut headers);
    let head_length = match head.parse(bytes).map_err(malformed)? {
        httparse::Status::Complete(length) => length,
        httparse::Status::Partial => return Ok(None),
    };
    let status = head.code.unwrap_or_default();
    let header = |name: &str| head.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value);
    let body_length = if status < 200 || status == 204 || status == 304 {
        Some(0)
    } else if header("transfer-encoding").is_some_and(|value| value.eq_ignore_ascii_case(b"chunked")) {
        chunked_length(&bytes[head_length..])?
    } else if let Some(value) = header("content-length") {
        let length = std::str::from_utf8(value).ok().and_then(|v| v.trim().parse::<usize>().ok());
        let length = length.ok_or_else(|| malformed("a content-length that is not a number"))?;
        (bytes.len() - head_length >= length).then_some(length)
    } else {
        // Only the end of the connection would tell where such a body ends.
        return Err(malformed("a response with neither content-length nor chunked encoding"));
    };
    Ok(body_length.map(|body| Response { status, length: head_length + body }))
}

/// The length of a chunked body (chunks, last chunk, trailers), once all of it is there.
fn chunked_length(bytes: &[u8]) -> io::Result<Option<usize>> {
    let mut at = 0;
    loop {
        let Some(line_end) = find_crlf(&bytes[at..]) else { return Ok(None) };
        let size_field = &bytes[at..at + line_end];
        let size_digits = size_field.split(|&b| b == b';').next().unwrap_or_default();
        let size = std::str::from_utf8(size_digits).ok().and_then(|s| usize::from_str_radix(s.trim(), 16).ok());
        let size = size.ok_or_else(|| malformed("a chunk size that is not hexadecimal"))?;
        at += line_end + 2;
        if size == 0 {
            // Trailer lines, if any, up to an empty line.
            loop {
                let Some(line_end) = find_crlf(&bytes[at..]) else { return Ok(None) };
                at += line_end + 2;
                if line_end == 0 {
                    return Ok(Some(at));
                }
            }
        }
        at = at.saturating_add(size).saturating_add(2);
        if at > bytes.len() {
            return Ok(None);
        }
    }
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|pair| pair == b"\r\n")
}

fn malformed(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("malformed response: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(bytes: &str) -> Option<Response> {
        parse(bytes.as_bytes()).expect("well formed")
    }

    #[test]
    fn a_response_ends_where_its_content_length_says() {
        let response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(parsed(response), Some(Response { status: 200, length: response.len() }));
        assert_eq!(parsed(&format!("{response}HTTP/1.1 200")), Some(Response { status: 200, length: response.len() }));
        assert_eq!(parsed(&response[..response.len() - 1]), None);
        assert_eq!(parsed("HTTP/1.1 200 OK\r\nContent-Len"), None);
    }

    #[test]
    fn a_chunked_response_ends_after_its_last_chunk_and_trailers() {
        let response =
            "HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\n!!!\r\n0\r\n\r\n";
        assert_eq!(parsed(response), Some(Response { status: 404, length: response.len() }));
        for cut in 1..40 {
            assert_eq!(parsed(&response[..response.len() - cut]), None, "cut {cut}");
        }
        let with_trailer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nx-sum: 1\r\n\r\n";
        assert_eq!(parsed(with_trailer), Some(Response { status: 200, length: with_trailer.len() }));
    }

    #[test]
    fn responses_without_a_body_or_with_bad_framing() {
        let no_content = "HTTP/1.1 204 No Content\r\n\r\n";
        assert_eq!(parsed(no_content), Some(Response { status: 204, length: no_content.len() }));
        assert!(parse(b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n").is_err());
        assert!(parse(b"SMTP ready\r\n\r\n").is_err());
    }
}
