//! What a student may see of an event: only their own part. The audit feed gives a student
//! the events about them, but some of those list classmates too (a closing lists every
//! student defaulted absent, an opening the whole roster, a held page every unclear row).

use serde_json::Value;

/// Lists of student numbers in event payloads.
const STUDENT_LISTS: [&str; 2] = ["defaulted_absent", "roster"];
/// Lists of rows, each with a `student_id`.
const STUDENT_ROWS: [&str; 1] = ["held"];

/// Keeps, in an event's payload, only what concerns `student`.
pub fn for_student(data: &mut Value, student: &str) {
    let Some(fields) = data.as_object_mut() else {
        return;
    };
    for key in STUDENT_LISTS {
        if let Some(Value::Array(list)) = fields.get_mut(key) {
            list.retain(|s| s.as_str() == Some(student));
        }
    }
    for key in STUDENT_ROWS {
        if let Some(Value::Array(rows)) = fields.get_mut(key) {
            rows.retain(|row| row.get("student_id").and_then(Value::as_str) == Some(student));
        }
    }
    // An event about another student has no business in the feed: keep nothing of it.
    if fields
        .get("student_id")
        .and_then(Value::as_str)
        .is_some_and(|s| s != student)
    {
        fields.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_closing_shows_a_student_only_their_own_default() {
        let mut data = json!({"defaulted_absent": ["S1", "S2", "S3"], "by": {"role": "teacher"}});
        for_student(&mut data, "S2");
        assert_eq!(
            data,
            json!({"defaulted_absent": ["S2"], "by": {"role": "teacher"}})
        );
    }

    #[test]
    fn held_rows_and_rosters_of_classmates_are_dropped() {
        let mut data = json!({
            "roster": ["S1", "S2"],
            "held": [{"student_id": "S1", "candidates": ["present"]}, {"student_id": "S2"}]
        });
        for_student(&mut data, "S1");
        assert_eq!(
            data,
            json!({"roster": ["S1"], "held": [{"student_id": "S1", "candidates": ["present"]}]})
        );
    }
}
