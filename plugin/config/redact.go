package config

import (
	"net/url"
	"regexp"
	"strings"
)

const hidden = "***"

// String renders the effective configuration as one log line, every key of
// the table in its canonical spelling and order. Secrets are redacted
// (the DSN's passwords, Redis_Password as ***); files are shown by path
// only; an empty value is shown as "".
func (c *Config) String() string {
	var b strings.Builder
	for _, k := range keys {
		if k.hook && !testHooks || k.omit != nil && k.omit(c) {
			continue
		}
		v := k.show(c)
		if k.redact != nil {
			v = k.redact(v)
		}
		if v == "" {
			v = `""`
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k.name + "=" + v)
	}
	return b.String()
}

// passwordKV matches password-like settings in a libpq keyword/value DSN
// (password, sslpassword), quoted or not.
var passwordKV = regexp.MustCompile(`(?i)(\b\w*password\s*=\s*)('(?:[^'\\]|\\.)*'?|\S*)`)

// RedactDSN hides the passwords of a PostgreSQL DSN, URL or keyword/value
// form. A URL that cannot be parsed is hidden whole.
func RedactDSN(dsn string) string {
	if dsn == "" {
		return ""
	}
	if !strings.Contains(dsn, "://") {
		return passwordKV.ReplaceAllString(dsn, "${1}"+hidden)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL, hidden)"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return strings.ReplaceAll(u.String(), "xxxxx", hidden)
}
