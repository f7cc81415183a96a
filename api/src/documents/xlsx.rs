//! The attendance list as an Excel workbook: one sheet, bold headings frozen at the top with a
//! filter, columns wide enough to read. Every cell is written as text, so a name that looks
//! like a formula stays a name.

use rust_xlsxwriter::{Format, Workbook, XlsxError};
use scheduler::lists::AttendanceSheet;

/// Column widths in characters, in the sheet's column order (State, Name, Function, E-mail,
/// Seat, Status, Registered at).
const WIDTHS: [f64; 7] = [28.0, 32.0, 30.0, 34.0, 12.0, 14.0, 26.0];

/// `sheet` as the bytes of an `.xlsx` file, on a worksheet named `Attendance`.
///
/// # Errors
/// When the workbook cannot be assembled (it is built in memory).
pub fn attendance(sheet: &AttendanceSheet) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let worksheet = workbook.add_worksheet();
    worksheet.set_name("Attendance")?;
    let bold = Format::new().set_bold();
    for (column, (heading, width)) in (0u16..).zip(sheet.columns.iter().zip(WIDTHS)) {
        worksheet.write_string_with_format(0, column, heading, &bold)?;
        worksheet.set_column_width(column, width)?;
    }
    for (row, cells) in (1u32..).zip(&sheet.rows) {
        for (column, cell) in (0u16..).zip(cells) {
            worksheet.write_string(row, column, cell)?;
        }
    }
    worksheet.set_freeze_panes(1, 0)?;
    let last_row = u32::try_from(sheet.rows.len()).unwrap_or(u32::MAX);
    worksheet.autofilter(0, 0, last_row, 6)?;
    workbook.save_to_buffer()
}
