//! The labels of the administrators' student search (filters and paging), per language.

/// One language's search labels.
#[derive(Debug)]
pub struct SearchLabels {
    pub department: &'static str,
    pub level: &'static str,
    /// `{from}`, `{to}`, `{total}`.
    pub showing: &'static str,
    pub previous_page: &'static str,
    pub next_page: &'static str,
    pub pages: &'static str,
}

/// English.
pub static EN: SearchLabels = SearchLabels {
    department: "Department",
    level: "Level",
    showing: "Students {from} to {to} of {total}",
    previous_page: "Previous page",
    next_page: "Next page",
    pages: "Pages",
};

/// Arabic.
pub static AR: SearchLabels = SearchLabels {
    department: "القسم",
    level: "المستوى",
    showing: "الطلاب من {from} إلى {to} من أصل {total}",
    previous_page: "الصفحة السابقة",
    next_page: "الصفحة التالية",
    pages: "الصفحات",
};
