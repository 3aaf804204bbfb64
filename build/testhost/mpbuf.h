//go:build ignore

/*
 * mpbuf.h - a growable byte buffer, a msgpack writer, a bounds-checked msgpack
 * skipper (to count events in verbatim chunks) and a strict JSON -> msgpack
 * converter. Included once by flb_host.c.
 */
#ifndef FLB_HOST_MPBUF_H
#define FLB_HOST_MPBUF_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static void buf_grow(struct buf *b, size_t need)
{
    if (b->len + need <= b->cap)
        return;
    size_t c = b->cap ? b->cap : 256;
    while (c < b->len + need)
        c *= 2;
    uint8_t *n = realloc(b->p, c);
    if (!n) {
        fprintf(stderr, "[host] out of memory (%zu bytes)\n", c);
        exit(2);
    }
    b->p = n;
    b->cap = c;
}

static void buf_put(struct buf *b, const void *src, size_t n)
{
    buf_grow(b, n);
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void buf_u8(struct buf *b, uint8_t v) { buf_put(b, &v, 1); }

static void buf_be(struct buf *b, uint64_t v, int bytes)
{
    uint8_t t[8];
    for (int i = 0; i < bytes; i++)
        t[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    buf_put(b, t, (size_t)bytes);
}

/* ---- msgpack writer (minimal encodings, as msgpack-c does) ---- */

static void mp_uint(struct buf *b, uint64_t v)
{
    if (v < 128) {
        buf_u8(b, (uint8_t)v);
    } else if (v <= 0xff) {
        buf_u8(b, 0xcc);
        buf_be(b, v, 1);
    } else if (v <= 0xffff) {
        buf_u8(b, 0xcd);
        buf_be(b, v, 2);
    } else if (v <= 0xffffffffu) {
        buf_u8(b, 0xce);
        buf_be(b, v, 4);
    } else {
        buf_u8(b, 0xcf);
        buf_be(b, v, 8);
    }
}

static void mp_int(struct buf *b, int64_t v)
{
    if (v >= 0) {
        mp_uint(b, (uint64_t)v);
    } else if (v >= -32) {
        buf_u8(b, (uint8_t)(0xe0 | (v + 32)));
    } else if (v >= INT8_MIN) {
        buf_u8(b, 0xd0);
        buf_be(b, (uint64_t)v, 1);
    } else if (v >= INT16_MIN) {
        buf_u8(b, 0xd1);
        buf_be(b, (uint64_t)v, 2);
    } else if (v >= INT32_MIN) {
        buf_u8(b, 0xd2);
        buf_be(b, (uint64_t)v, 4);
    } else {
        buf_u8(b, 0xd3);
        buf_be(b, (uint64_t)v, 8);
    }
}

static void mp_double(struct buf *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    buf_u8(b, 0xcb);
    buf_be(b, u, 8);
}

static size_t mp_str_hdr_len(size_t n)
{
    return n < 32 ? 1 : n <= 0xff ? 2 : n <= 0xffff ? 3 : 5;
}

static void mp_str_hdr_at(uint8_t *p, size_t n)
{
    if (n < 32) {
        p[0] = (uint8_t)(0xa0 | n);
    } else if (n <= 0xff) {
        p[0] = 0xd9;
        p[1] = (uint8_t)n;
    } else if (n <= 0xffff) {
        p[0] = 0xda;
        p[1] = (uint8_t)(n >> 8);
        p[2] = (uint8_t)n;
    } else {
        p[0] = 0xdb;
        for (int i = 0; i < 4; i++)
            p[1 + i] = (uint8_t)(n >> (24 - 8 * i));
    }
}

static void mp_str(struct buf *b, const void *s, size_t n)
{
    size_t h = mp_str_hdr_len(n);
    buf_grow(b, h + n);
    mp_str_hdr_at(b->p + b->len, n);
    b->len += h;
    buf_put(b, s, n);
}

/* container header: kind 0 = array, 1 = map */
static size_t mp_cont_hdr_len(size_t n) { return n < 16 ? 1 : n <= 0xffff ? 3 : 5; }

static void mp_cont_hdr_at(uint8_t *p, int map, size_t n)
{
    if (n < 16) {
        p[0] = (uint8_t)((map ? 0x80 : 0x90) | n);
    } else if (n <= 0xffff) {
        p[0] = map ? 0xde : 0xdc;
        p[1] = (uint8_t)(n >> 8);
        p[2] = (uint8_t)n;
    } else {
        p[0] = map ? 0xdf : 0xdd;
        for (int i = 0; i < 4; i++)
            p[1 + i] = (uint8_t)(n >> (24 - 8 * i));
    }
}

static void mp_map_hdr(struct buf *b, size_t n)
{
    buf_grow(b, 5);
    mp_cont_hdr_at(b->p + b->len, 1, n);
    b->len += mp_cont_hdr_len(n);
}

/* ---- msgpack skipper: returns bytes used by one object, 0 if incomplete or invalid ---- */

static size_t mp_skip(const uint8_t *p, size_t n, int depth)
{
    if (n == 0 || depth > 1000)
        return 0;
    uint8_t c = p[0];
    size_t hdr = 1, body = 0, items = 0;
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        return 1;
    if ((c & 0xe0) == 0xa0) {
        body = c & 0x1f;
    } else if ((c & 0xf0) == 0x90) {
        items = c & 0x0f;
    } else if ((c & 0xf0) == 0x80) {
        items = (size_t)(c & 0x0f) * 2;
    } else {
        size_t w;
        switch (c) {
        case 0xcc: case 0xd0: return n >= 2 ? 2 : 0;
        case 0xcd: case 0xd1: return n >= 3 ? 3 : 0;
        case 0xce: case 0xd2: case 0xca: return n >= 5 ? 5 : 0;
        case 0xcf: case 0xd3: case 0xcb: return n >= 9 ? 9 : 0;
        case 0xd4: return n >= 3 ? 3 : 0;
        case 0xd5: return n >= 4 ? 4 : 0;
        case 0xd6: return n >= 6 ? 6 : 0;
        case 0xd7: return n >= 10 ? 10 : 0;
        case 0xd8: return n >= 18 ? 18 : 0;
        case 0xc4: case 0xd9: w = 1; break;
        case 0xc5: case 0xda: w = 2; break;
        case 0xc6: case 0xdb: w = 4; break;
        case 0xc7: w = 1; break;
        case 0xc8: w = 2; break;
        case 0xc9: w = 4; break;
        case 0xdc: case 0xde: w = 2; break;
        case 0xdd: case 0xdf: w = 4; break;
        default: return 0; /* 0xc1: never used */
        }
        if (n < 1 + w)
            return 0;
        size_t v = 0;
        for (size_t i = 0; i < w; i++)
            v = (v << 8) | p[1 + i];
        hdr = 1 + w;
        if (c == 0xdc || c == 0xdd)
            items = v;
        else if (c == 0xde || c == 0xdf)
            items = v * 2;
        else if (c >= 0xc7 && c <= 0xc9)
            body = v + 1, hdr = 1 + w; /* ext: type byte + data */
        else
            body = v;
    }
    if (body) {
        if (n - hdr < body)
            return 0;
        return hdr + body;
    }
    size_t off = hdr;
    for (size_t i = 0; i < items; i++) {
        if (off >= n)
            return 0;
        size_t k = mp_skip(p + off, n - off, depth + 1);
        if (k == 0)
            return 0;
        off += k;
    }
    return off;
}

/* ---- strict JSON -> msgpack ---- */

struct json {
    const char *s, *end, *line_start;
    const char *err;
    const char *err_at;
    struct buf *out;
    int depth;
    /* top-level "_tag" extraction */
    char *tag;
};

#define JSON_MAX_DEPTH 1000

static void json_ws(struct json *j)
{
    while (j->s < j->end && (*j->s == ' ' || *j->s == '\t' || *j->s == '\r' || *j->s == '\n'))
        j->s++;
}

static int json_fail(struct json *j, const char *msg)
{
    if (!j->err) {
        j->err = msg;
        j->err_at = j->s;
    }
    return -1;
}

static int json_hex4(struct json *j, unsigned *v)
{
    if (j->end - j->s < 4)
        return json_fail(j, "truncated \\u escape");
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = j->s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return json_fail(j, "invalid hex digit in \\u escape");
        *v = (*v << 4) | d;
    }
    j->s += 4;
    return 0;
}

static void utf8_put(struct buf *b, unsigned cp)
{
    if (cp < 0x80) {
        buf_u8(b, (uint8_t)cp);
    } else if (cp < 0x800) {
        buf_u8(b, (uint8_t)(0xc0 | (cp >> 6)));
        buf_u8(b, (uint8_t)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        buf_u8(b, (uint8_t)(0xe0 | (cp >> 12)));
        buf_u8(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        buf_u8(b, (uint8_t)(0x80 | (cp & 0x3f)));
    } else {
        buf_u8(b, (uint8_t)(0xf0 | (cp >> 18)));
        buf_u8(b, (uint8_t)(0x80 | ((cp >> 12) & 0x3f)));
        buf_u8(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        buf_u8(b, (uint8_t)(0x80 | (cp & 0x3f)));
    }
}

/* Decodes a JSON string (j->s at the opening quote) into raw bytes in tmp.
 * Bytes >= 0x80 are copied verbatim (not validated) so hostile payloads can be fed. */
static int json_string_raw(struct json *j, struct buf *tmp)
{
    j->s++; /* opening quote */
    for (;;) {
        if (j->s >= j->end)
            return json_fail(j, "unterminated string");
        unsigned char c = (unsigned char)*j->s;
        if (c == '"') {
            j->s++;
            return 0;
        }
        if (c < 0x20)
            return json_fail(j, "unescaped control character in string");
        if (c != '\\') {
            const char *q = j->s;
            while (q < j->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
                q++;
            buf_put(tmp, j->s, (size_t)(q - j->s));
            j->s = q;
            continue;
        }
        j->s++;
        if (j->s >= j->end)
            return json_fail(j, "truncated escape");
        char e = *j->s++;
        switch (e) {
        case '"': buf_u8(tmp, '"'); break;
        case '\\': buf_u8(tmp, '\\'); break;
        case '/': buf_u8(tmp, '/'); break;
        case 'b': buf_u8(tmp, '\b'); break;
        case 'f': buf_u8(tmp, '\f'); break;
        case 'n': buf_u8(tmp, '\n'); break;
        case 'r': buf_u8(tmp, '\r'); break;
        case 't': buf_u8(tmp, '\t'); break;
        case 'u': {
            unsigned cp, lo;
            if (json_hex4(j, &cp))
                return -1;
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return json_fail(j, "lone low surrogate in \\u escape");
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (j->end - j->s < 2 || j->s[0] != '\\' || j->s[1] != 'u')
                    return json_fail(j, "high surrogate not followed by \\u low surrogate");
                j->s += 2;
                if (json_hex4(j, &lo))
                    return -1;
                if (lo < 0xdc00 || lo > 0xdfff)
                    return json_fail(j, "invalid low surrogate in \\u escape");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            utf8_put(tmp, cp);
            break;
        }
        default:
            j->s--;
            return json_fail(j, "invalid escape character");
        }
    }
}

static int json_string(struct json *j)
{
    struct buf tmp = {0};
    int rc = json_string_raw(j, &tmp);
    if (rc == 0)
        mp_str(j->out, tmp.p ? (const void *)tmp.p : "", tmp.len);
    free(tmp.p);
    return rc;
}

static int json_number(struct json *j)
{
    const char *st = j->s, *q = j->s;
    int is_float = 0;
    if (q < j->end && *q == '-')
        q++;
    if (q >= j->end || !(*q >= '0' && *q <= '9'))
        return json_fail(j, "invalid number");
    if (*q == '0') {
        q++;
        if (q < j->end && *q >= '0' && *q <= '9')
            return json_fail(j, "leading zero in number");
    } else {
        while (q < j->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < j->end && *q == '.') {
        is_float = 1;
        q++;
        if (q >= j->end || !(*q >= '0' && *q <= '9')) {
            j->s = q;
            return json_fail(j, "digit expected after decimal point");
        }
        while (q < j->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < j->end && (*q == 'e' || *q == 'E')) {
        is_float = 1;
        q++;
        if (q < j->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= j->end || !(*q >= '0' && *q <= '9')) {
            j->s = q;
            return json_fail(j, "digit expected in exponent");
        }
        while (q < j->end && *q >= '0' && *q <= '9')
            q++;
    }
    char tmp[512];
    size_t n = (size_t)(q - st);
    if (n >= sizeof tmp)
        return json_fail(j, "number too long");
    memcpy(tmp, st, n);
    tmp[n] = 0;
    j->s = q;
    if (!is_float) {
        char *endp;
        errno = 0;
        if (tmp[0] == '-') {
            long long v = strtoll(tmp, &endp, 10);
            if (errno == 0) {
                mp_int(j->out, v);
                return 0;
            }
        } else {
            unsigned long long v = strtoull(tmp, &endp, 10);
            if (errno == 0) {
                mp_uint(j->out, v);
                return 0;
            }
        }
        /* out of 64-bit range: fall back to a float, like most JSON readers */
    }
    mp_double(j->out, strtod(tmp, NULL));
    return 0;
}

static int json_literal(struct json *j, const char *lit, uint8_t code)
{
    size_t n = strlen(lit);
    if ((size_t)(j->end - j->s) < n || memcmp(j->s, lit, n) != 0)
        return json_fail(j, "invalid literal");
    j->s += n;
    buf_u8(j->out, code);
    return 0;
}

static int json_value(struct json *j, int top);

/* Writes a container: reserves a 5-byte header, then shrinks it to the minimal form. */
static int json_container(struct json *j, int map, int top)
{
    if (++j->depth > JSON_MAX_DEPTH)
        return json_fail(j, "nesting too deep");
    char close = map ? '}' : ']';
    j->s++;
    size_t hpos = j->out->len;
    buf_grow(j->out, 5);
    j->out->len += 5;
    size_t count = 0;
    json_ws(j);
    if (j->s < j->end && *j->s == close) {
        j->s++;
    } else {
        for (;;) {
            json_ws(j);
            size_t pair_start = j->out->len;
            int is_tag_key = 0;
            if (map) {
                if (j->s >= j->end || *j->s != '"')
                    return json_fail(j, "object key (string) expected");
                struct buf key = {0};
                if (json_string_raw(j, &key)) {
                    free(key.p);
                    return -1;
                }
                is_tag_key = top && key.len == 4 && memcmp(key.p, "_tag", 4) == 0;
                mp_str(j->out, key.p ? (const void *)key.p : "", key.len);
                free(key.p);
                json_ws(j);
                if (j->s >= j->end || *j->s != ':')
                    return json_fail(j, "':' expected after object key");
                j->s++;
                json_ws(j);
            }
            size_t val_start = j->out->len;
            if (json_value(j, 0))
                return -1;
            count++;
            if (is_tag_key) {
                /* a top-level string "_tag" is the record's tag, not a body key */
                const uint8_t *v = j->out->p + val_start;
                size_t vl = j->out->len - val_start;
                uint8_t c = v[0];
                size_t h = 0, sl = 0;
                if ((c & 0xe0) == 0xa0)
                    h = 1, sl = c & 0x1f;
                else if (c == 0xd9)
                    h = 2, sl = v[1];
                else if (c == 0xda)
                    h = 3, sl = ((size_t)v[1] << 8) | v[2];
                else if (c == 0xdb)
                    h = 5, sl = ((size_t)v[1] << 24) | ((size_t)v[2] << 16) | ((size_t)v[3] << 8) | v[4];
                if (h && h + sl == vl) {
                    if (!j->tag) {
                        j->tag = malloc(sl + 1);
                        if (!j->tag)
                            return json_fail(j, "out of memory");
                        memcpy(j->tag, v + h, sl);
                        j->tag[sl] = 0;
                    }
                    j->out->len = pair_start;
                    count--;
                }
            }
            json_ws(j);
            if (j->s < j->end && *j->s == ',') {
                j->s++;
                continue;
            }
            if (j->s < j->end && *j->s == close) {
                j->s++;
                break;
            }
            return json_fail(j, map ? "',' or '}' expected" : "',' or ']' expected");
        }
    }
    size_t h = mp_cont_hdr_len(count);
    uint8_t *base = j->out->p + hpos;
    memmove(base + h, base + 5, j->out->len - hpos - 5);
    mp_cont_hdr_at(base, map, count);
    j->out->len -= 5 - h;
    j->depth--;
    return 0;
}

static int json_value(struct json *j, int top)
{
    json_ws(j);
    if (j->s >= j->end)
        return json_fail(j, "value expected");
    switch (*j->s) {
    case '{': return json_container(j, 1, top);
    case '[': return json_container(j, 0, 0);
    case '"': return json_string(j);
    case 't': return json_literal(j, "true", 0xc3);
    case 'f': return json_literal(j, "false", 0xc2);
    case 'n': return json_literal(j, "null", 0xc0);
    default:
        if (*j->s == '-' || (*j->s >= '0' && *j->s <= '9'))
            return json_number(j);
        return json_fail(j, "unexpected character");
    }
}

/* Converts one line holding a JSON object. On error returns -1 and sets err and col. */
static int json_line_to_mp(const char *line, size_t n, struct buf *out, char **tag,
                           const char **err, size_t *col)
{
    struct json j = {.s = line, .end = line + n, .line_start = line, .out = out};
    size_t start = out->len;
    json_ws(&j);
    int rc;
    if (j.s >= j.end || *j.s != '{') {
        rc = json_fail(&j, "JSON object expected");
    } else {
        rc = json_value(&j, 1);
        if (rc == 0) {
            json_ws(&j);
            if (j.s != j.end)
                rc = json_fail(&j, "trailing characters after the object");
        }
    }
    if (rc) {
        out->len = start;
        free(j.tag);
        *err = j.err;
        *col = (size_t)(j.err_at - line) + 1;
        return -1;
    }
    *tag = j.tag;
    return 0;
}

#endif
