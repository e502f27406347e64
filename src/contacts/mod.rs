//! The contact-number report (KLIK task): role holders without a direct or mobile number.
