//! `request:multipart()`: `multipart/form-data` bodies (RFC 7578), parsed from the body the
//! host already bounded by the route's body limit.

use crate::view::{self, ViewPath};
use mlua::{UserData, UserDataMethods};

pub struct Multipart {
    fields: Vec<Field>,
}

#[derive(Clone)]
pub struct Field {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    headers: Vec<(String, String)>,
    data: Vec<u8>,
}

impl Multipart {
    pub fn parse(content_type: &str, body: &[u8]) -> Result<Multipart, String> {
        let boundary = parameter(content_type, "boundary")
            .filter(|_| content_type.trim_start().to_ascii_lowercase().starts_with("multipart/"))
            .ok_or_else(|| format!("the request is not multipart/form-data (Content-Type: {content_type:?})"))?;
        let delimiter = format!("--{boundary}");
        let mut fields = Vec::new();
        let mut parts = split(body, delimiter.as_bytes()).into_iter().skip(1);
        for part in parts.by_ref() {
            if part.starts_with(b"--") {
                break; // the closing delimiter
            }
            let part = part.strip_prefix(b"\r\n").unwrap_or(part);
            let part = part.strip_suffix(b"\r\n").unwrap_or(part);
            let Some(split_at) = find(part, b"\r\n\r\n") else {
                return Err("a multipart part has no blank line after its headers".into());
            };
            let (head, data) = (&part[..split_at], &part[split_at + 4..]);
            let headers: Vec<(String, String)> = String::from_utf8_lossy(head)
                .split("\r\n")
                .filter_map(|line| line.split_once(':'))
                .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
                .collect();
            let disposition = header(&headers, "content-disposition").unwrap_or_default();
            fields.push(Field {
                name: parameter(&disposition, "name").unwrap_or_default(),
                file_name: parameter(&disposition, "filename"),
                content_type: header(&headers, "content-type"),
                headers,
                data: data.to_vec(),
            });
        }
        Ok(Multipart { fields })
    }

    fn first_file(&self) -> Option<&Field> {
        self.fields.iter().find(|field| field.file_name.is_some())
    }
}

fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

/// `name` from `form-data; name="x"` or `multipart/form-data; boundary=y`.
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim().trim_matches('"').to_string())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

fn split<'a>(mut body: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut pieces = Vec::new();
    while let Some(at) = find(body, delimiter) {
        pieces.push(&body[..at]);
        body = &body[at + delimiter.len()..];
    }
    pieces.push(body);
    pieces
}

impl UserData for Multipart {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("fields", |lua, this, ()| lua.create_sequence_from(this.fields.iter().cloned()));
        methods.add_method("get_field", |_, this, name: String| {
            Ok(this.fields.iter().find(|field| field.name == name).cloned())
        });
        methods.add_method("file_name", |_, this, ()| Ok(this.first_file().and_then(|f| f.file_name.clone())));
        // Writes the first uploaded file, through the file view: in the app's data folder,
        // under the client's file name (its last component only) unless a path is given.
        methods.add_method("save_file", |_, this, path: Option<String>| {
            let Some(file) = this.first_file() else { return Ok(None) };
            let file_name = file.file_name.as_deref().unwrap_or("upload");
            let default_name = std::path::Path::new(file_name)
                .file_name()
                .map_or_else(|| "upload".to_string(), |name| name.to_string_lossy().into_owned());
            let path = path.unwrap_or(default_name);
            let cannot = |reason: String| mlua::Error::runtime(format!("cannot save the upload to {path:?}: {reason}"));
            let place = ViewPath::parse(&path).map_err(cannot)?;
            let target = place.for_writing(false).map_err(|e| cannot(view::reason(&e)))?;
            std::fs::write(target, &file.data).map_err(|e| cannot(view::reason(&e)))?;
            Ok(Some(path))
        });
    }
}

impl UserData for Field {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("name", |_, this, ()| Ok(this.name.clone()));
        methods.add_method("file_name", |_, this, ()| Ok(this.file_name.clone()));
        methods.add_method("content_type", |_, this, ()| Ok(this.content_type.clone()));
        methods.add_method("headers", |lua, this, ()| {
            let table = lua.create_table()?;
            for (name, value) in &this.headers {
                table.set(name.as_str(), value.as_str())?;
            }
            Ok(table)
        });
        methods.add_method("text", |lua, this, ()| lua.create_string(&this.data));
        methods.add_method("bytes", |lua, this, ()| lua.create_sequence_from(this.data.iter().copied()));
    }
}
