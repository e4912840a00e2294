//! The labels of one's own account (the password page, the forced change) and of the
//! administrators' account actions (reset, re-enable), per language.

use api::auth::password::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN, Weakness};

/// One language's account labels.
#[derive(Debug)]
pub struct AccountLabels {
    pub my_password: &'static str,
    pub change_password: &'static str,
    pub must_change: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub repeat_password: &'static str,
    pub password_rules: &'static str,
    pub password_changed: &'static str,
    pub continue_home: &'static str,
    pub wrong_password: &'static str,
    pub repeat_differs: &'static str,
    pub must_differ: &'static str,
    /// `{n}` the least number of characters.
    pub too_short: &'static str,
    /// `{n}` the most characters.
    pub too_long: &'static str,
    pub is_username: &'static str,
    pub repeated: &'static str,
    pub common: &'static str,
    pub reset_password: &'static str,
    pub enable: &'static str,
    pub account_enabled: &'static str,
    pub one_time_title: &'static str,
    /// `{user}` the account's username.
    pub one_time_note: &'static str,
}

impl AccountLabels {
    /// The policy rule a new password breaks, in this language (`number` writes a number
    /// in its digits).
    pub fn weakness(&self, rule: Weakness, number: impl Fn(usize) -> String) -> String {
        match rule {
            Weakness::TooShort => self.too_short.replace("{n}", &number(MIN_PASSWORD_LEN)),
            Weakness::TooLong => self.too_long.replace("{n}", &number(MAX_PASSWORD_LEN)),
            Weakness::Username => self.is_username.to_string(),
            Weakness::Repeated => self.repeated.to_string(),
            Weakness::Common => self.common.to_string(),
        }
    }
}

/// English.
pub static EN: AccountLabels = AccountLabels {
    my_password: "My password",
    change_password: "Change my password",
    must_change: "You signed in with a one-time password. Choose your own password to go on.",
    current_password: "Current password",
    new_password: "New password",
    repeat_password: "New password again",
    password_rules: "At least 12 characters; not your username, not one character repeated, not a common password.",
    password_changed: "Your password was changed. Your other sessions have ended.",
    continue_home: "Continue to the home page",
    wrong_password: "This is not your current password.",
    repeat_differs: "The two new passwords differ.",
    must_differ: "The new password must differ from the current one.",
    too_short: "Use at least {n} characters.",
    too_long: "Use at most {n} characters.",
    is_username: "The password must not be your username.",
    repeated: "The password must not be one character repeated.",
    common: "This is one of the most common passwords; choose another.",
    reset_password: "Reset password",
    enable: "Enable",
    account_enabled: "The account was enabled. Its old sessions stay ended.",
    one_time_title: "One-time password",
    one_time_note: "Give this password to {user} in person. It is shown only this once; {user} must choose their own password when signing in with it. Their sessions have ended.",
};

/// Arabic.
pub static AR: AccountLabels = AccountLabels {
    my_password: "كلمة المرور",
    change_password: "تغيير كلمة المرور",
    must_change: "سجّلت الدخول بكلمة مرور لمرة واحدة. اختر كلمة مرورك للمتابعة.",
    current_password: "كلمة المرور الحالية",
    new_password: "كلمة المرور الجديدة",
    repeat_password: "كلمة المرور الجديدة مرة أخرى",
    password_rules: "12 حرفًا على الأقل؛ ليست اسم المستخدم، ولا حرفًا واحدًا مكررًا، ولا كلمة مرور شائعة.",
    password_changed: "تم تغيير كلمة المرور. انتهت جلساتك الأخرى.",
    continue_home: "المتابعة إلى الصفحة الرئيسية",
    wrong_password: "هذه ليست كلمة مرورك الحالية.",
    repeat_differs: "كلمتا المرور الجديدتان مختلفتان.",
    must_differ: "يجب أن تختلف كلمة المرور الجديدة عن الحالية.",
    too_short: "استخدم {n} حرفًا على الأقل.",
    too_long: "استخدم {n} حرفًا على الأكثر.",
    is_username: "يجب ألا تكون كلمة المرور اسم المستخدم.",
    repeated: "يجب ألا تكون كلمة المرور حرفًا واحدًا مكررًا.",
    common: "هذه من أكثر كلمات المرور شيوعًا؛ اختر غيرها.",
    reset_password: "إعادة تعيين كلمة المرور",
    enable: "تفعيل",
    account_enabled: "تم تفعيل الحساب. تبقى جلساته القديمة منتهية.",
    one_time_title: "كلمة مرور لمرة واحدة",
    one_time_note: "سلّم كلمة المرور هذه إلى {user} شخصيًا. لا تظهر إلا هذه المرة؛ وعلى {user} اختيار كلمة مروره عند الدخول بها. انتهت جلساته.",
};
