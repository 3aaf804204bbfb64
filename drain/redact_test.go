package drain

import (
	"strings"
	"testing"
)

// secretForms are the secrets of issue 15, each with the template the
// default preset makes of the line, the sample Redact keeps of it, and the
// secret parts that must appear in neither.
var secretForms = []struct {
	name, in, template, sample string
	secrets                    []string
}{
	{"aws key pair", "aws_access_key_id=AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"aws_access_key_id=<*> aws_secret_access_key=<*>",
		"aws_access_key_id=<redacted> aws_secret_access_key=<redacted>",
		[]string{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI"}},
	{"bare aws key id", "using key AKIAIOSFODNN7EXAMPLE for upload", "using key <*> for upload",
		"using key <redacted> for upload", []string{"AKIAIOSFODNN7EXAMPLE"}},
	{"aws key id of letters only", "rotated AKIAABCDEFGHIJKLMNOP today", "rotated <*> today",
		"rotated <redacted> today", []string{"AKIAABCDEFGHIJKLMNOP"}},
	{"temporary aws key id", "temporary credentials ASIAY34FZKBOKMUTVV7A issued.", "temporary credentials <*> issued.",
		"temporary credentials <redacted> issued.", []string{"ASIAY34FZKBOKMUTVV7A"}},
	{"aws secret key uppercase", "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"export AWS_SECRET_ACCESS_KEY=<*>", "export AWS_SECRET_ACCESS_KEY=<redacted>", []string{"wJalrXUtnFEMI"}},
	{"private key block", "-----BEGIN RSA PRIVATE KEY----- MIIEpAIBAAKCAQEA75abcdefg+/xyzABCDEF== -----END RSA PRIVATE KEY----- loaded",
		"-----BEGIN RSA PRIVATE KEY----- <*> -----END RSA PRIVATE KEY----- loaded",
		"-----BEGIN RSA PRIVATE KEY----- <redacted> -----END RSA PRIVATE KEY----- loaded",
		[]string{"MIIEpAIBAAKCAQEA75", "xyzABCDEF"}},
	{"private key block on lines", "key: \"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\nAAAAC3NzaC1lZDI1NTE5\n-----END OPENSSH PRIVATE KEY-----\"",
		"key: \"-----BEGIN OPENSSH PRIVATE KEY----- <*> -----END OPENSSH PRIVATE KEY-----\"",
		"key: \"-----BEGIN OPENSSH PRIVATE KEY-----\n<redacted>\n-----END OPENSSH PRIVATE KEY-----\"",
		[]string{"b3BlbnNzaC1rZXktdjEAAAA", "AAAAC3NzaC1lZDI1NTE5"}},
	{"private key block cut", "loaded -----BEGIN PRIVATE KEY----- MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
		"loaded -----BEGIN PRIVATE KEY----- <*>", "loaded -----BEGIN PRIVATE KEY----- <redacted>", []string{"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"}},
	{"cookie", "request headers Cookie: sessionid=38afes7a8; csrftoken=abcdef0123",
		"request headers Cookie: <*>", "request headers Cookie: <redacted>", []string{"38afes7a8", "abcdef0123"}},
	{"set-cookie", "response Set-Cookie: sid=31d4d96e407aad42; Path=/; Secure; HttpOnly",
		"response Set-Cookie: <*>", "response Set-Cookie: <redacted>", []string{"31d4d96e407aad42"}},
	{"cookie in json", `{"cookie":"sid=xyz123; theme=dark","host":"shop"}`,
		`{"cookie":"<*>","host":"shop"}`, `{"cookie":"<redacted>","host":"shop"}`, []string{"xyz123", "dark"}},
	{"api_key in url", "GET https://api.example.com/v1/items?api_key=abcd1234secret&page=2 200", "GET <*>",
		"GET https://api.example.com/v1/items?api_key=<redacted>&page=2 200", []string{"abcd1234secret"}},
	{"key in url", "fetch /v1/items?key=zyx987abc&limit=10 failed", "fetch <*> failed",
		"fetch /v1/items?key=<redacted>&limit=10 failed", []string{"zyx987abc"}},
	{"key in relative url", "fetch items?key=zyxabc&limit=10 failed", "fetch items?key=<*>&limit=<*> failed",
		"fetch items?key=<redacted>&limit=10 failed", []string{"zyxabc"}},
	{"access_token in url", "callback url=https://x.example.com/cb?access_token=ya29.a0AfH6SMB&state=1", "callback url=<*>",
		"callback url=https://x.example.com/cb?access_token=<redacted>&state=1", []string{"ya29.a0AfH6SMB"}},
	{"token in url", "redirect to /login?token=deadbeefcafe ok", "redirect to <*> ok",
		"redirect to /login?token=<redacted> ok", []string{"deadbeefcafe"}},
	{"password", "password=hunter2 login", "password=<*> login", "password=<redacted> login", []string{"hunter2"}},
	{"email", "mail to alice.smith@example.com failed", "mail to <*> failed",
		"mail to <redacted> failed", []string{"alice.smith"}},
	{"email in brackets", "from <bob@example.org>.", "from <*>", "from <<redacted>>.", []string{"bob@"}},
	{"bearer", "Authorization: Bearer abc.def-ghi", "Authorization: <*>",
		"Authorization: Bearer <redacted>", []string{"abc.def-ghi"}},
	{"jwt", "got eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl here", "got <*> here",
		"got <redacted> here", []string{"eyJhbGciOiJIUzI1NiJ9"}},
}

func TestRedactSecretForms(t *testing.T) {
	for _, c := range secretForms {
		t.Run(c.name, func(t *testing.T) {
			tmpl := maskedString(c.in)
			if c.template != "" && tmpl != c.template {
				t.Errorf("template %q, want %q", tmpl, c.template)
			}
			sample := Redact(c.in, "<redacted>")
			if sample != c.sample {
				t.Errorf("sample %q, want %q", sample, c.sample)
			}
			// The drain3 preset masks nothing: the plugin redacts its
			// template texts with Redact(text, "<*>").
			d3 := Redact(c.in, wildcard)
			for _, sec := range c.secrets {
				for what, got := range map[string]string{"template": tmpl, "sample": sample, "drain3 template": d3} {
					if strings.Contains(got, sec) {
						t.Errorf("%s %q still holds %q", what, got, sec)
					}
				}
			}
			// A template the scanner masked comes back unchanged.
			if again := Redact(tmpl, wildcard); again != tmpl {
				t.Errorf("Redact(template) = %q, want it unchanged %q", again, tmpl)
			}
		})
	}
}

// Lines without secrets are returned as they are.
func TestRedactKeeps(t *testing.T) {
	for _, in := range []string{
		"",
		"Connection from 10.0.0.1 closed",
		"GET https://shop.example.com/cart?page=2&sort=asc 200",
		"monkey=3 turkey=4 key=value keys=1",
		"-----BEGIN CERTIFICATE----- MIIBszCCAVmgAwIBAgIU -----END CERTIFICATE-----",
		"AKIA is not a key, nor is AKIAIOSFODNN7EXAMPL or akiaiosfodnn7example",
		"password=<*> token=<IP> Cookie: <*>",
		"f(token=) and token=&x",
		"orders-api invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0",
	} {
		got := Redact(in, "<redacted>")
		if got != in {
			t.Errorf("Redact(%q) = %q, want it unchanged", in, got)
		}
	}
}

// Secrets inside longer lines keep every other byte, white space included.
func TestRedactKeepsOtherBytes(t *testing.T) {
	in := "a  \tpassword=x1  b\u00e9 token: 'y2'  c"
	want := "a  \tpassword=<r>  b\u00e9 token: '<r>'  c"
	if got := Redact(in, "<r>"); got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
}

func BenchmarkRedact(b *testing.B) {
	line := "2026-11-25T18:00:00Z api-7f9 POST /v1/login user=alice@example.com password=hunter2 Cookie: sid=abc; theme=dark"
	b.ReportAllocs()
	for b.Loop() {
		Redact(line, "<redacted>")
	}
}

// FuzzRedact: Redact never panics, keeps a line without secrets as it is,
// and redacting twice changes nothing more (a redacted value is a mask).
func FuzzRedact(f *testing.F) {
	for _, c := range secretForms {
		f.Add(c.in)
	}
	f.Add("token=&x f(token=) -----BEGIN PRIVATE KEY----- x")
	f.Fuzz(func(t *testing.T, line string) {
		once := Redact(line, "<redacted>")
		if twice := Redact(once, "<redacted>"); twice != once {
			t.Errorf("Redact(%q) = %q, again %q", line, once, twice)
		}
	})
}
