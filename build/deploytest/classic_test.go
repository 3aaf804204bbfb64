package deploytest

import (
	"strings"
	"testing"
)

func TestParseClassic(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Section // nil with wantErr
		wantErr  string
	}{
		{name: "sections and keys", in: "# c\n[SERVICE]\n    Flush 1\n    # inner\n\n[INPUT]\n    Name  tail\n    Path\t/var/log/*.log\n    Parser a\n    Parser b  \n",
			want: []Section{
				{Name: "SERVICE", Entries: []Entry{{Key: "Flush", Value: "1"}}},
				{Name: "INPUT", Entries: []Entry{{Key: "Name", Value: "tail"}, {Key: "Path", Value: "/var/log/*.log"}, {Key: "Parser", Value: "a"}, {Key: "Parser", Value: "b"}}},
			}},
		{name: "key outside section", in: "    Flush 1\n", wantErr: "outside a section"},
		{name: "unindented key", in: "[SERVICE]\nFlush 1\n", wantErr: "not indented"},
		{name: "mixed indentation", in: "[SERVICE]\n    Flush 1\n  Grace 5\n", wantErr: "indentation"},
		{name: "no value", in: "[SERVICE]\n    Flush\n", wantErr: "no value"},
		{name: "bad header", in: "[SERVICE\n", wantErr: "bad section header"},
		{name: "include", in: "@INCLUDE other.conf\n", wantErr: "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseClassic(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d sections, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i].Name != tt.want[i].Name || len(got[i].Entries) != len(tt.want[i].Entries) {
					t.Fatalf("section %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
				for j, e := range got[i].Entries {
					w := tt.want[i].Entries[j]
					if e.Key != w.Key || e.Value != w.Value {
						t.Errorf("section %d entry %d: got %s=%q, want %s=%q", i, j, e.Key, e.Value, w.Key, w.Value)
					}
				}
			}
			if v, _ := got[len(got)-1].Get("NAME"); len(got) == 2 && v != "tail" {
				t.Errorf("Get is not case-insensitive: %q", v)
			}
		})
	}
}

func TestGoRegexp(t *testing.T) {
	re, err := GoRegexp(`^(?<a>\d+)(?: (?<b>x))?$`)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := Match(re, "42")
	if !ok || m["a"] != "42" {
		t.Fatalf("got %v %v", m, ok)
	}
	if _, has := m["b"]; has {
		t.Error("a group that did not take part must yield no key")
	}
	for _, bad := range []string{`(?<=x)y`, `(?<!x)y`, `a(?=b)`, `(a)\1`, `a*+`} {
		if _, err := GoRegexp(bad); err == nil {
			t.Errorf("%q: want an error for a construct Go cannot express", bad)
		}
	}
}

func TestGoTimeLayout(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"%b %d %H:%M:%S", "Jan _2 15:04:05"},
		{"%Y-%m-%dT%H:%M:%S.%L%z", "2006-01-_2T15:04:05.999999999Z07:00"},
	} {
		got, err := GoTimeLayout(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("GoTimeLayout(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"%Q", "%"} {
		if _, err := GoTimeLayout(bad); err == nil {
			t.Errorf("GoTimeLayout(%q): want an error", bad)
		}
	}
}

func TestParseDockerfile(t *testing.T) {
	in := "# syntax\nFROM a AS b\nRUN x \\\n    y\nCOPY --from=b /o /p\n"
	got, err := ParseDockerfile(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1].Cmd != "RUN" || strings.Join(got[1].Args, " ") != "x y" || got[1].Line != 3 {
		t.Fatalf("got %+v", got)
	}
	if f, ok := got[2].Flag("from"); !ok || f != "b" || strings.Join(got[2].Operands(), " ") != "/o /p" {
		t.Errorf("COPY flags/operands: %+v", got[2])
	}
	if _, err := ParseDockerfile(strings.NewReader("RUN a \\\n")); err == nil {
		t.Error("want an error for a dangling continuation")
	}
}
