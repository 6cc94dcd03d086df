//! The audit log as CSV: the entries the page's filters match, newest
//! first, streamed in batches as they are read. The csv crate writes the
//! file (RFC 4180: a field that holds a comma, a quote or a line break is
//! quoted, its quotes doubled; lines end with CRLF); what it cannot know is
//! that a spreadsheet runs a field that starts like a formula, so each such
//! field is neutralised first.

use std::borrow::Cow;
use std::io;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use futures_util::{StreamExt, stream};

use super::Params;
use crate::services::Ctx;
use crate::services::audit_log::{self, LogRow};
use crate::store::audit::SubjectRow;
use crate::web::admin::CurrentAdmin;
use crate::web::errors::WebError;

const HEADER: [&str; 9] = [
    "id", "at", "actor", "channel", "action", "summary", "subjects", "before", "after",
];

/// A field a spreadsheet would take for a formula (it starts with `=`, `+`,
/// `-`, `@`, a tab or a carriage return) gets a leading `'`, so that it is
/// shown as the text it is.
fn neutralised(value: &str) -> Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// `records` as CSV lines, every field neutralised.
fn to_csv<R, F>(records: impl IntoIterator<Item = R>) -> io::Result<Vec<u8>>
where
    R: IntoIterator<Item = F>,
    F: AsRef<str>,
{
    let mut out = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for record in records {
        for field in record {
            out.write_field(neutralised(field.as_ref()).as_bytes())?;
        }
        out.write_record(None::<&[u8]>)?;
    }
    out.into_inner().map_err(|e| e.into_error())
}

fn subjects_text(subjects: &[SubjectRow]) -> String {
    subjects
        .iter()
        .map(|s| format!("{} ({})", s.name, s.kind))
        .collect::<Vec<_>>()
        .join("; ")
}

fn csv_rows(rows: &[LogRow]) -> io::Result<Vec<u8>> {
    to_csv(rows.iter().map(|r| {
        let e = &r.entry;
        [
            e.id.to_string(),
            crate::clock::iso(e.at),
            e.actor_label.clone(),
            e.channel.clone(),
            e.action.clone(),
            e.summary.clone(),
            subjects_text(&r.subjects),
            e.before_json.clone().unwrap_or_default(),
            e.after_json.clone().unwrap_or_default(),
        ]
    }))
}

pub async fn csv(
    ctx: web::Data<Ctx>,
    admin: CurrentAdmin,
    params: web::Query<Params>,
) -> Result<HttpResponse, WebError> {
    let filter = params.filter();
    let header = to_csv([HEADER]).map_err(|e| WebError::Unexpected(e.into()))?;
    let batches = audit_log::export(ctx.into_inner(), filter).await?;
    tracing::info!(actor = %admin.email, "audit log exported");
    let body = stream::once(async { Ok(Bytes::from(header)) }).chain(batches.map(|batch| {
        let lines = match batch {
            Ok(rows) => csv_rows(&rows).map_err(anyhow::Error::from),
            Err(e) => Err(e.into()),
        };
        lines.map(Bytes::from).map_err(|e| {
            // The headers are sent: all that is left is to cut the file short.
            tracing::error!(error = %e, "audit log export failed");
            io::Error::other("audit log export failed")
        })
    }));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"portal-audit.csv\"",
        ))
        .streaming(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(fields: &[&str]) -> String {
        String::from_utf8(to_csv([fields]).unwrap()).unwrap()
    }

    #[test]
    fn the_header_line() {
        assert_eq!(
            line(&HEADER),
            "id,at,actor,channel,action,summary,subjects,before,after\r\n"
        );
    }

    #[test]
    fn csv_fields_are_quoted_and_neutralised() {
        assert_eq!(line(&["plain", ""]), "plain,\r\n");
        assert_eq!(line(&["a,b"]), "\"a,b\"\r\n");
        assert_eq!(line(&["say \"hi\""]), "\"say \"\"hi\"\"\"\r\n");
        assert_eq!(line(&["two\nlines"]), "\"two\nlines\"\r\n");
        assert_eq!(line(&["=1+1"]), "'=1+1\r\n");
        assert_eq!(line(&["+1"]), "'+1\r\n");
        assert_eq!(line(&["-1"]), "'-1\r\n");
        assert_eq!(line(&["@SUM(A1)"]), "'@SUM(A1)\r\n");
        assert_eq!(line(&["\tx"]), "'\tx\r\n");
        assert_eq!(line(&["\rx"]), "\"'\rx\"\r\n");
        assert_eq!(line(&["=a,\"b\""]), "\"'=a,\"\"b\"\"\"\r\n");
        assert_eq!(line(&["a=b"]), "a=b\r\n");
    }
}
