//! A spreadsheet as rows of cells: CSV (comma, semicolon or tab, UTF-8 with or without a byte
//! order mark) or a workbook that calamine reads (XLSX, XLS, XLSB, ODS; the first sheet).
//!
//! Formula cells are read as the value the spreadsheet stored when it was last saved; nothing
//! is ever evaluated. Reading stops with a clear error past [`MAX_ROWS`] rows.

use crate::app::error::AppError;
use calamine::{Data, Reader, Sheets, Xlsx};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::io::Cursor;

/// Data rows read at most from one file.
pub const MAX_ROWS: usize = 50_000;
/// Columns read at most.
const MAX_COLUMNS: usize = 200;
/// Cells (empty ones too) an XLSX sheet may hold: 50,000 rows of 80 columns.
const MAX_CELLS: usize = 4_000_000;
/// What the parts of a zipped workbook read whole (ODS, XLSB) may inflate to.
const MAX_INFLATED: u64 = 200_000_000;

/// One cell's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text as written.
    Text(String),
    /// A number (an Excel serial date too, when the cell has no date format).
    Number(f64),
    /// A cell with a date format.
    Date(NaiveDate),
    /// TRUE or FALSE.
    Bool(bool),
}

/// A sheet: the header row and the data rows, each with its row number in the file.
#[derive(Debug, Default)]
pub struct Table {
    /// The first non-empty row.
    pub headers: Vec<String>,
    /// `(row number as a spreadsheet shows it, cells)`, empty rows left out.
    pub rows: Vec<(usize, Vec<Cell>)>,
}

/// The file's kind, from its name's extension or its first bytes.
fn is_workbook(bytes: &[u8]) -> bool {
    // ZIP (XLSX, XLSB, ODS) or OLE compound document (XLS).
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

/// Reads a spreadsheet file.
pub fn read(bytes: &[u8]) -> Result<Table, AppError> {
    if bytes.is_empty() {
        return Err(broken("the file is empty"));
    }
    let mut table = if is_workbook(bytes) {
        read_workbook(bytes)?
    } else {
        read_csv(bytes)?
    };
    if table.headers.iter().all(|h| h.is_empty()) {
        return Err(broken("the file has no header row"));
    }
    table.headers.truncate(MAX_COLUMNS);
    Ok(table)
}

fn broken(detail: impl Into<String>) -> AppError {
    AppError::Invalid {
        code: "unreadable_spreadsheet",
        detail: detail.into(),
        errors: Vec::new(),
    }
}

fn too_many_rows() -> AppError {
    AppError::Invalid {
        code: "too_many_rows",
        detail: format!("the file has more than {MAX_ROWS} rows; split it"),
        errors: Vec::new(),
    }
}

fn read_workbook(bytes: &[u8]) -> Result<Table, AppError> {
    let book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| broken(format!("not a spreadsheet calamine can read: {e}")))?;
    match book {
        Sheets::Xlsx(mut xlsx) => read_streamed(&mut xlsx),
        mut other => {
            if bytes.starts_with(b"PK") {
                check_inflated_size(bytes)?;
            }
            read_range(&mut other)
        }
    }
}

/// An XLSX sheet read cell by cell, so that a file that inflates to far more cells than an
/// import accepts is refused as it is read, not after it filled memory.
fn read_streamed(xlsx: &mut Xlsx<Cursor<&[u8]>>) -> Result<Table, AppError> {
    let name = xlsx
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| broken("the workbook has no sheet"))?;
    let mut reader = xlsx
        .worksheet_cells_reader(&name)
        .map_err(|e| broken(format!("the first sheet cannot be read: {e}")))?;
    let mut grid: BTreeMap<u32, Vec<Cell>> = BTreeMap::new();
    let mut seen = 0usize;
    while let Some(read) = reader
        .next_cell()
        .map_err(|e| broken(format!("the first sheet cannot be read: {e}")))?
    {
        seen += 1;
        if seen > MAX_CELLS {
            return Err(too_many_rows());
        }
        let (row, column) = read.get_position();
        let value = cell(&Data::from(read.get_value().clone()));
        if value == Cell::Empty || column as usize >= MAX_COLUMNS {
            continue;
        }
        if !grid.contains_key(&row) && grid.len() > MAX_ROWS {
            return Err(too_many_rows());
        }
        let cells = grid.entry(row).or_default();
        if cells.len() <= column as usize {
            cells.resize(column as usize + 1, Cell::Empty);
        }
        cells[column as usize] = value;
    }
    let mut table = Table::default();
    for (row, cells) in grid {
        push_row(&mut table, row as usize + 1, cells)?;
    }
    Ok(table)
}

/// Refuses a zipped workbook (ODS, XLSB) whose parts say they inflate past
/// [`MAX_INFLATED`]: calamine reads those whole.
fn check_inflated_size(bytes: &[u8]) -> Result<(), AppError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| broken(format!("the workbook is not a readable ZIP file: {e}")))?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let part = archive
            .by_index_raw(i)
            .map_err(|e| broken(format!("the workbook is damaged: {e}")))?;
        total = total.saturating_add(part.size());
    }
    if total > MAX_INFLATED {
        return Err(broken(format!(
            "the workbook inflates to more than {} MB; save it as XLSX or CSV",
            MAX_INFLATED / 1_000_000
        )));
    }
    Ok(())
}

fn read_range(book: &mut Sheets<Cursor<&[u8]>>) -> Result<Table, AppError> {
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| broken("the workbook has no sheet"))?
        .map_err(|e| broken(format!("the first sheet cannot be read: {e}")))?;
    let first_row = range.start().map_or(0, |(row, _)| row as usize);
    let mut table = Table::default();
    for (i, row) in range.rows().enumerate() {
        let cells: Vec<Cell> = row.iter().take(MAX_COLUMNS).map(cell).collect();
        push_row(&mut table, first_row + i + 1, cells)?;
    }
    Ok(table)
}

fn cell(data: &Data) -> Cell {
    match data {
        Data::Empty | Data::Error(_) => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => text(s),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(d) => match d.as_datetime() {
            Some(at) if d.is_datetime() => Cell::Date(at.date()),
            _ => Cell::Number(d.as_f64()),
        },
    }
}

fn text(s: &str) -> Cell {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(trimmed.to_string())
    }
}

/// Adds a row: the first non-empty row is the header, empty rows are skipped.
fn push_row(table: &mut Table, number: usize, cells: Vec<Cell>) -> Result<(), AppError> {
    if cells.iter().all(|c| *c == Cell::Empty) {
        return Ok(());
    }
    if table.headers.is_empty() {
        table.headers = cells
            .iter()
            .map(|c| match c {
                Cell::Text(s) => s.clone(),
                Cell::Number(n) => n.to_string(),
                Cell::Date(d) => d.to_string(),
                Cell::Bool(b) => b.to_string(),
                Cell::Empty => String::new(),
            })
            .collect();
        return Ok(());
    }
    if table.rows.len() == MAX_ROWS {
        return Err(too_many_rows());
    }
    table.rows.push((number, cells));
    Ok(())
}

fn read_csv(bytes: &[u8]) -> Result<Table, AppError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let content = std::str::from_utf8(bytes).map_err(|e| {
        broken(format!(
            "the file is neither a workbook nor UTF-8 text (byte {}); save it as CSV UTF-8 or XLSX",
            e.valid_up_to()
        ))
    })?;
    let header_line = content.lines().next().unwrap_or_default();
    let delimiter = [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| header_line.bytes().filter(|b| b == d).count())
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(content.as_bytes());
    let mut table = Table::default();
    for record in reader.records() {
        let record = record.map_err(|e| broken(format!("the CSV cannot be read: {e}")))?;
        // The line the record starts on, counting the blank lines the reader skips.
        let mut start = record
            .position()
            .map_or(0, |p| p.byte() as usize)
            .min(content.len());
        while matches!(content.as_bytes().get(start), Some(b'\n' | b'\r')) {
            start += 1;
        }
        let number = 1 + content.as_bytes()[..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        let cells = record.iter().take(MAX_COLUMNS).map(text).collect();
        push_row(&mut table, number, cells)?;
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_semicolon_csv_with_a_byte_order_mark_reads_its_header_and_rows() {
        let table = read("\u{feff}Student_No;Full_Name\nS1; Ada \n\nS2;Bea\n".as_bytes()).unwrap();
        assert_eq!(table.headers, vec!["Student_No", "Full_Name"]);
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[0].1[1], Cell::Text("Ada".into()));
        // Row numbers are the file's lines: the empty line 3 is skipped, Bea is on line 4.
        assert_eq!(table.rows[1].0, 4);
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_with_a_hint() {
        let error = read(b"id,name\nS1,Jos\xe9\n").unwrap_err();
        assert!(error.to_string().contains("UTF-8"), "{error}");
    }
}
