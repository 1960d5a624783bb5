/* test_baggage.c - unit tests for core/baggage.c (W3C Baggage). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <mhd-otel/propagation.h>

/* A growable-in-place string for building long test inputs. */
typedef struct strbuf {
    char s[20000];
    size_t len;
} strbuf;

static void sb_add(strbuf *b, const char *s)
{
    size_t n = strlen(s);
    assert_true(b->len + n < sizeof b->s);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_rep(strbuf *b, char c, size_t n)
{
    assert_true(b->len + n < sizeof b->s);
    memset(b->s + b->len, c, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* Append ",k<i>=v" (no comma first). */
static void sb_member(strbuf *b, size_t i)
{
    char m[32];
    snprintf(m, sizeof m, "%sk%zu=v", b->len > 0 ? "," : "", i);
    sb_add(b, m);
}

/* The baggages are large: keep them out of the test functions' frames. */
static otel_baggage bag;
static otel_baggage bag2;
static char out[OTEL_BAGGAGE_MAX_BYTES + 64];

static int parse(otel_baggage *b, const char *s)
{
    return otel_baggage_parse(b, s, strlen(s));
}

static int format(const otel_baggage *b)
{
    return otel_baggage_format(b, out, sizeof out);
}

/* Expect member i of b to be key=value;props. */
static void expect_member(const otel_baggage *b, size_t i, const char *key, const char *value,
                          const char *props)
{
    otel_baggage_member m;
    assert_int_equal(otel_baggage_at(b, i, &m), 0);
    assert_string_equal(m.key, key);
    assert_string_equal(m.value, value);
    assert_string_equal(m.props, props);
}

/* Expect s to parse into exactly one member key=value;props. */
static void expect_one(const char *s, const char *key, const char *value, const char *props)
{
    assert_int_equal(parse(&bag, s), 1);
    expect_member(&bag, 0, key, value, props);
}

/* Expect parse(s) to keep no member. */
static void expect_none(const char *s)
{
    assert_int_equal(parse(&bag, s), 0);
    assert_int_equal(otel_baggage_count(&bag), 0);
}

/* ---- otel_baggage_parse ------------------------------------------------- */

static void test_otel_baggage_parse_simple(void **state)
{
    (void)state;
    assert_int_equal(parse(&bag, "key1=value1,key2=value2"), 2);
    expect_member(&bag, 0, "key1", "value1", "");
    expect_member(&bag, 1, "key2", "value2", "");
    assert_string_equal(otel_baggage_get(&bag, "key2"), "value2");
    assert_null(otel_baggage_get(&bag, "key3"));
    assert_null(otel_baggage_get(&bag, "key"));
    assert_null(otel_baggage_get(&bag, "KEY1")); /* keys are case-sensitive */
}

static void test_otel_baggage_parse_ows(void **state)
{
    (void)state;
    assert_int_equal(parse(&bag, " \tk1 = v1 \t, k2\t=\tv2 ;  p1 ; p2 = x ,"), 2);
    expect_member(&bag, 0, "k1", "v1", "");
    expect_member(&bag, 1, "k2", "v2", "p1;p2=x");
}

static void test_otel_baggage_parse_properties(void **state)
{
    (void)state;
    expect_one("key1=value1;prop1;prop2=v", "key1", "value1", "prop1;prop2=v");
    expect_one("k=v;;p;;", "k", "v", "p");
    expect_one("k=v;p=", "k", "v", "p=");
    expect_one("k=v;p=%2C", "k", "v", "p=%2C"); /* kept as sent */
    expect_none("k=v;bad key");
    expect_none("k=v;=x");
    expect_none("k=v;p=a b");
    expect_none("k=v;p=\"q\"");
}

static void test_otel_baggage_parse_tokens(void **state)
{
    (void)state;
    expect_one("!#$%&'*+-.^_`|~09azAZ=v", "!#$%&'*+-.^_`|~09azAZ", "v", "");
    expect_none("k y=v");
    expect_none("k(=v");
    expect_none("=v");
    expect_none("k\"=v");
    expect_none("k:=v");
    expect_none("k\r=v");
    expect_none("k");
    expect_none(";p");
}

static void test_otel_baggage_parse_empty_value(void **state)
{
    (void)state;
    expect_one("k=", "k", "", "");
    expect_one("k= ;p", "k", "", "p");
}

static void test_otel_baggage_parse_empty_members(void **state)
{
    (void)state;
    assert_int_equal(parse(&bag, ",, a=1 ,,\t, b=2,"), 2);
    expect_none("");
    expect_none(" , , ");
    assert_int_equal(otel_baggage_parse(&bag, NULL, 0), 0);
}

static void test_otel_baggage_parse_invalid_member_dropped(void **state)
{
    (void)state;
    assert_int_equal(parse(&bag, "a=1,b c=2,d=3,e=4 4,f=%zz,g=%4,h=%,i=\"x\",j=5"), 3);
    expect_member(&bag, 0, "a", "1", "");
    expect_member(&bag, 1, "d", "3", "");
    expect_member(&bag, 2, "j", "5", "");
}

static void test_otel_baggage_parse_percent_decoding(void **state)
{
    (void)state;
    expect_one("k=a%20b%2C%3B%25%22%5C", "k", "a b,;%\"\\", "");
    expect_one("k=%c3%a9t%C3%A9", "k", "\xc3\xa9t\xc3\xa9", "");
    expect_one("k=%E2%82%AC%F0%9F%98%80", "k", "\xe2\x82\xac\xf0\x9f\x98\x80", "");
    expect_one("k=%0D%0AX-Evil:%201", "k", "\r\nX-Evil: 1", "");
    expect_one("k=100%25", "k", "100%", "");
}

static void test_otel_baggage_parse_invalid_utf8_replaced(void **state)
{
    (void)state;
    expect_one("k=%FF", "k", "\xef\xbf\xbd", "");
    expect_one("k=a%C3b", "k",
               "a\xef\xbf\xbd"
               "b",
               "");
    expect_one("k=%C0%AF", "k", "\xef\xbf\xbd\xef\xbf\xbd", "");                /* overlong */
    expect_one("k=%ED%A0%80", "k", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", ""); /* surrogate */
    expect_one("k=%00x", "k", "\xef\xbf\xbdx", "");
}

static void test_otel_baggage_parse_duplicate_last_wins(void **state)
{
    (void)state;
    assert_int_equal(parse(&bag, "a=1,b=2,a=3"), 2);
    assert_string_equal(otel_baggage_get(&bag, "a"), "3");
    assert_string_equal(otel_baggage_get(&bag, "b"), "2");
}

static void test_otel_baggage_parse_replaces_content(void **state)
{
    (void)state;
    assert_int_equal(parse(&bag, "a=1,b=2"), 2);
    assert_int_equal(parse(&bag, "c=3"), 1);
    assert_null(otel_baggage_get(&bag, "a"));
    assert_int_equal(otel_baggage_parse(NULL, "a=1", 3), OTEL_ERR_INVALID);
}

static void test_otel_baggage_parse_respects_len(void **state)
{
    (void)state;
    assert_int_equal(otel_baggage_parse(&bag, "a=1,b=2", 3), 1);
    assert_string_equal(otel_baggage_get(&bag, "a"), "1");
    assert_int_equal(otel_baggage_parse(&bag, "a=%41", 4), 0); /* cut escape */
}

/* ---- limits ------------------------------------------------------------- */

static void test_otel_baggage_parse_180_members(void **state)
{
    (void)state;
    strbuf b = {.len = 0};
    for (size_t i = 0; i < 180; i++)
        sb_member(&b, i);
    assert_int_equal(parse(&bag, b.s), 180);
    sb_member(&b, 180);
    sb_member(&b, 181);
    assert_int_equal(parse(&bag, b.s), 180);
    assert_non_null(otel_baggage_get(&bag, "k179"));
    assert_null(otel_baggage_get(&bag, "k180"));
    assert_null(otel_baggage_get(&bag, "k181"));
    /* A repeated key does not take a new place. */
    assert_int_equal(otel_baggage_count(&bag), 180);
}

static void test_otel_baggage_parse_8192_bytes(void **state)
{
    (void)state;
    strbuf b = {.len = 0};
    /* Two members of 4096 bytes with the comma: 8191 + 1 + ... */
    sb_add(&b, "a=");
    sb_rep(&b, 'x', 4094);
    sb_add(&b, ",b=");
    sb_rep(&b, 'y', 4093); /* total 4096 + 1 + 4095 = 8192 */
    assert_int_equal(b.len, 8192);
    assert_int_equal(parse(&bag, b.s), 2);
    assert_int_equal(format(&bag), 8192);
    assert_string_equal(out, b.s);

    sb_add(&b, "y"); /* 8193: the last member goes, not the header */
    assert_int_equal(parse(&bag, b.s), 1);
    assert_non_null(otel_baggage_get(&bag, "a"));
    assert_null(otel_baggage_get(&bag, "b"));

    sb_add(&b, ",c=3"); /* a later member that fits is kept */
    assert_int_equal(parse(&bag, b.s), 2);
    assert_string_equal(otel_baggage_get(&bag, "c"), "3");
}

static void test_otel_baggage_parse_single_member_over_limit(void **state)
{
    (void)state;
    strbuf b = {.len = 0};
    sb_add(&b, "a=1,big=");
    sb_rep(&b, 'x', 8192);
    sb_add(&b, ",c=3");
    assert_int_equal(parse(&bag, b.s), 2);
    assert_string_equal(otel_baggage_get(&bag, "a"), "1");
    assert_null(otel_baggage_get(&bag, "big"));
    assert_string_equal(otel_baggage_get(&bag, "c"), "3");
}

static void test_otel_baggage_parse_limit_counts_encoded_size(void **state)
{
    (void)state;
    strbuf b = {.len = 0};
    /* 9000 header bytes of escapes for plain letters: 3000 bytes formatted. */
    sb_add(&b, "k=");
    for (size_t i = 0; i < 3000; i++)
        sb_add(&b, "%41");
    assert_int_equal(parse(&bag, b.s), 1);
    assert_int_equal(strlen(otel_baggage_get(&bag, "k")), 3000);
    assert_int_equal(format(&bag), 3002);
    /* 2800 spaces are 8400 bytes once encoded: over the limit. */
    b.len = 0;
    sb_add(&b, "k=");
    for (size_t i = 0; i < 2800; i++)
        sb_add(&b, "%20");
    expect_none(b.s);
}

static void test_otel_baggage_parse_huge_header(void **state)
{
    (void)state;
    strbuf b = {.len = 0};
    for (size_t i = 0; b.len < 19000; i++)
        sb_member(&b, i);
    assert_int_equal(parse(&bag, b.s), 180);
    assert_true(format(&bag) <= OTEL_BAGGAGE_MAX_BYTES);
}

/* ---- otel_baggage_format ------------------------------------------------ */

static void test_otel_baggage_format_simple(void **state)
{
    (void)state;
    assert_int_equal(parse(&bag, " key1 = value1 ;prop1; prop2 = v , key2=value2"), 2);
    assert_int_equal(format(&bag), (int)strlen("key1=value1;prop1;prop2=v,key2=value2"));
    assert_string_equal(out, "key1=value1;prop1;prop2=v,key2=value2");
}

static void test_otel_baggage_format_empty(void **state)
{
    (void)state;
    otel_baggage_init(&bag);
    memset(out, 'X', sizeof out);
    assert_int_equal(format(&bag), 0);
    assert_string_equal(out, "");
    assert_int_equal(otel_baggage_format(NULL, out, sizeof out), 0);
    assert_int_equal(otel_baggage_format(&bag, out, 0), OTEL_ERR_INVALID);
}

static void test_otel_baggage_format_percent_encoding(void **state)
{
    (void)state;
    otel_baggage_init(&bag);
    assert_int_equal(otel_baggage_set(&bag, "k", "a b,c;d\\e\"f%g", NULL), 0);
    assert_int_equal(format(&bag), (int)strlen("k=a%20b%2Cc%3Bd%5Ce%22f%25g"));
    assert_string_equal(out, "k=a%20b%2Cc%3Bd%5Ce%22f%25g");

    otel_baggage_init(&bag);
    assert_int_equal(otel_baggage_set(&bag, "k", "\r\n\t\x7f\xc3\xa9", NULL), 0);
    format(&bag);
    assert_string_equal(out, "k=%0D%0A%09%7F%C3%A9");

    otel_baggage_init(&bag);
    assert_int_equal(otel_baggage_set(&bag, "k", "!#$&'()*+-./09:<=>?@AZ[]^_`az{|}~", NULL), 0);
    format(&bag);
    assert_string_equal(out, "k=!#$&'()*+-./09:<=>?@AZ[]^_`az{|}~");
}

static void test_otel_baggage_format_round_trip(void **state)
{
    (void)state;
    const char *values[] = {"",
                            "plain",
                            "a b",
                            "100%",
                            ",;=\"\\",
                            "\r\n",
                            "\xc3\xa9\xe2\x82\xac",
                            "\xf0\x9f\x98\x80 smile",
                            "%41",
                            "~!@#$^&*()"};
    otel_baggage_init(&bag);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char key[8];
        snprintf(key, sizeof key, "k%zu", i);
        assert_int_equal(otel_baggage_set(&bag, key, values[i], i % 2 ? "p;q=1" : NULL), 0);
    }
    int n = format(&bag);
    assert_true(n > 0);
    assert_int_equal(parse(&bag2, out), (int)otel_baggage_count(&bag));
    for (size_t i = 0; i < otel_baggage_count(&bag); i++) {
        otel_baggage_member a, b;
        assert_int_equal(otel_baggage_at(&bag, i, &a), 0);
        assert_int_equal(otel_baggage_at(&bag2, i, &b), 0);
        assert_string_equal(a.key, b.key);
        assert_string_equal(a.value, b.value);
        assert_string_equal(a.props, b.props);
    }
    /* Formatting again gives the same text. */
    char first[1024];
    assert_true((size_t)n < sizeof first);
    memcpy(first, out, (size_t)n + 1);
    format(&bag2);
    assert_string_equal(out, first);
}

static void test_otel_baggage_format_small_cap_stops(void **state)
{
    (void)state;
    char small[12];
    assert_int_equal(parse(&bag, "a=1,b=2,c=3"), 3);
    memset(small, 'X', sizeof small);
    assert_int_equal(otel_baggage_format(&bag, small, 12), 11);
    assert_string_equal(small, "a=1,b=2,c=3");
    memset(small, 'X', sizeof small);
    assert_int_equal(otel_baggage_format(&bag, small, 11), 7);
    assert_string_equal(small, "a=1,b=2");
    assert_int_equal(small[8], 'X');
    assert_int_equal(otel_baggage_format(&bag, small, 4), 3);
    assert_string_equal(small, "a=1");
    assert_int_equal(otel_baggage_format(&bag, small, 3), 0);
    assert_string_equal(small, "");
}

/* ---- otel_baggage_set / get / remove / count / at ----------------------- */

static void test_otel_baggage_set_and_get(void **state)
{
    (void)state;
    otel_baggage_init(&bag);
    assert_int_equal(otel_baggage_set(&bag, "user", "alice", NULL), 0);
    assert_int_equal(otel_baggage_set(&bag, "tenant", "t1", "ttl=30;raw"), 0);
    assert_int_equal(otel_baggage_count(&bag), 2);
    assert_string_equal(otel_baggage_get(&bag, "user"), "alice");
    expect_member(&bag, 1, "tenant", "t1", "ttl=30;raw");
    format(&bag);
    assert_string_equal(out, "user=alice,tenant=t1;ttl=30;raw");
}

static void test_otel_baggage_set_replaces(void **state)
{
    (void)state;
    assert_int_equal(parse(&bag, "a=1,b=2,c=3"), 3);
    assert_int_equal(otel_baggage_set(&bag, "a", "one", "p"), 0);
    assert_int_equal(otel_baggage_count(&bag), 3);
    expect_member(&bag, 0, "b", "2", "");
    expect_member(&bag, 1, "c", "3", "");
    expect_member(&bag, 2, "a", "one", "p");
    format(&bag);
    assert_string_equal(out, "b=2,c=3,a=one;p");
}

static void test_otel_baggage_set_invalid(void **state)
{
    (void)state;
    assert_int_equal(parse(&bag, "a=1"), 1);
    assert_int_equal(otel_baggage_set(&bag, "", "v", NULL), OTEL_ERR_INVALID);
    assert_int_equal(otel_baggage_set(&bag, "a b", "v", NULL), OTEL_ERR_INVALID);
    assert_int_equal(otel_baggage_set(&bag, "a\r\nX-Evil", "v", NULL), OTEL_ERR_INVALID);
    assert_int_equal(otel_baggage_set(&bag, "k", "\xff", NULL), OTEL_ERR_INVALID);
    assert_int_equal(otel_baggage_set(&bag, "k", "\xc3", NULL), OTEL_ERR_INVALID);
    assert_int_equal(otel_baggage_set(&bag, "k", "v", "p\r\n"), OTEL_ERR_INVALID);
    assert_int_equal(otel_baggage_set(&bag, "k", "v", "p=a,b"), OTEL_ERR_INVALID);
    assert_int_equal(otel_baggage_set(&bag, "a", "v", "=x"), OTEL_ERR_INVALID);
    assert_int_equal(otel_baggage_set(&bag, NULL, "v", NULL), OTEL_ERR_INVALID);
    assert_int_equal(otel_baggage_set(&bag, "k", NULL, NULL), OTEL_ERR_INVALID);
    assert_int_equal(otel_baggage_set(NULL, "k", "v", NULL), OTEL_ERR_INVALID);
    assert_int_equal(otel_baggage_count(&bag), 1);
    assert_string_equal(otel_baggage_get(&bag, "a"), "1");
    format(&bag);
    assert_string_equal(out, "a=1");
}

static void test_otel_baggage_set_full_members(void **state)
{
    (void)state;
    otel_baggage_init(&bag);
    for (size_t i = 0; i < OTEL_BAGGAGE_MAX_MEMBERS; i++) {
        char key[8];
        snprintf(key, sizeof key, "k%zu", i);
        assert_int_equal(otel_baggage_set(&bag, key, "v", NULL), 0);
    }
    assert_int_equal(otel_baggage_set(&bag, "one-more", "v", NULL), OTEL_ERR_FULL);
    assert_int_equal(otel_baggage_count(&bag), 180);
    /* Replacing a member at the limit works. */
    assert_int_equal(otel_baggage_set(&bag, "k0", "w", NULL), 0);
    assert_int_equal(otel_baggage_count(&bag), 180);
    assert_string_equal(otel_baggage_get(&bag, "k0"), "w");
}

static void test_otel_baggage_set_full_bytes(void **state)
{
    (void)state;
    char big[8192];
    otel_baggage_init(&bag);
    memset(big, 'x', 8189);
    big[8189] = '\0';
    assert_int_equal(otel_baggage_set(&bag, "a", big, NULL), 0); /* 8191 bytes */
    assert_int_equal(otel_baggage_set(&bag, "b", "", NULL), OTEL_ERR_FULL);
    big[8188] = '\0';
    assert_int_equal(otel_baggage_set(&bag, "a", big, NULL), 0);            /* 8190 */
    assert_int_equal(otel_baggage_set(&bag, "b", "", NULL), OTEL_ERR_FULL); /* + ",b=" */
    big[8187] = '\0';
    assert_int_equal(otel_baggage_set(&bag, "a", big, NULL), 0);             /* 8189 */
    assert_int_equal(otel_baggage_set(&bag, "b", " ", NULL), OTEL_ERR_FULL); /* ",b=%20" */
    assert_int_equal(otel_baggage_set(&bag, "b", "", NULL), 0);              /* 8192 */
    assert_int_equal(format(&bag), 8192);
    /* A too long replacement keeps the old member. */
    big[8187] = 'x';
    assert_int_equal(otel_baggage_set(&bag, "a", big, NULL), OTEL_ERR_FULL);
    assert_int_equal(strlen(otel_baggage_get(&bag, "a")), 8187);
    assert_int_equal(otel_baggage_count(&bag), 2);
}

static void test_otel_baggage_remove_compacts(void **state)
{
    (void)state;
    assert_int_equal(parse(&bag, "a=1;p,b=2,c=3;q=4"), 3);
    assert_true(otel_baggage_remove(&bag, "b"));
    assert_false(otel_baggage_remove(&bag, "b"));
    assert_false(otel_baggage_remove(&bag, "zz"));
    assert_int_equal(otel_baggage_count(&bag), 2);
    expect_member(&bag, 0, "a", "1", "p");
    expect_member(&bag, 1, "c", "3", "q=4");
    assert_int_equal(otel_baggage_set(&bag, "d", "4", NULL), 0);
    assert_true(otel_baggage_remove(&bag, "a"));
    format(&bag);
    assert_string_equal(out, "c=3;q=4,d=4");
    assert_true(otel_baggage_remove(&bag, "d"));
    assert_true(otel_baggage_remove(&bag, "c"));
    assert_int_equal(otel_baggage_count(&bag), 0);
    assert_false(otel_baggage_remove(NULL, "a"));
}

static void test_otel_baggage_remove_frees_room(void **state)
{
    (void)state;
    char big[8192];
    memset(big, 'x', 8000);
    big[8000] = '\0';
    otel_baggage_init(&bag);
    for (int round = 0; round < 50; round++) {
        assert_int_equal(otel_baggage_set(&bag, "big", big, NULL), 0);
        assert_int_equal(otel_baggage_set(&bag, "small", "1", NULL), 0);
        assert_true(otel_baggage_remove(&bag, "big"));
    }
    assert_int_equal(otel_baggage_count(&bag), 1);
}

static void test_otel_baggage_at_range(void **state)
{
    (void)state;
    otel_baggage_member m;
    assert_int_equal(parse(&bag, "a=1"), 1);
    assert_int_equal(otel_baggage_at(&bag, 0, &m), 0);
    assert_int_equal(otel_baggage_at(&bag, 1, &m), OTEL_ERR_RANGE);
    assert_int_equal(otel_baggage_at(NULL, 0, &m), OTEL_ERR_RANGE);
    assert_int_equal(otel_baggage_count(NULL), 0);
    assert_null(otel_baggage_get(NULL, "a"));
}

static void test_otel_baggage_init_zeroed_is_empty(void **state)
{
    (void)state;
    memset(&bag, 0, sizeof bag);
    assert_int_equal(otel_baggage_count(&bag), 0);
    assert_int_equal(otel_baggage_set(&bag, "a", "1", NULL), 0);
    assert_string_equal(otel_baggage_get(&bag, "a"), "1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_baggage_parse_simple),
        cmocka_unit_test(test_otel_baggage_parse_ows),
        cmocka_unit_test(test_otel_baggage_parse_properties),
        cmocka_unit_test(test_otel_baggage_parse_tokens),
        cmocka_unit_test(test_otel_baggage_parse_empty_value),
        cmocka_unit_test(test_otel_baggage_parse_empty_members),
        cmocka_unit_test(test_otel_baggage_parse_invalid_member_dropped),
        cmocka_unit_test(test_otel_baggage_parse_percent_decoding),
        cmocka_unit_test(test_otel_baggage_parse_invalid_utf8_replaced),
        cmocka_unit_test(test_otel_baggage_parse_duplicate_last_wins),
        cmocka_unit_test(test_otel_baggage_parse_replaces_content),
        cmocka_unit_test(test_otel_baggage_parse_respects_len),
        cmocka_unit_test(test_otel_baggage_parse_180_members),
        cmocka_unit_test(test_otel_baggage_parse_8192_bytes),
        cmocka_unit_test(test_otel_baggage_parse_single_member_over_limit),
        cmocka_unit_test(test_otel_baggage_parse_limit_counts_encoded_size),
        cmocka_unit_test(test_otel_baggage_parse_huge_header),
        cmocka_unit_test(test_otel_baggage_format_simple),
        cmocka_unit_test(test_otel_baggage_format_empty),
        cmocka_unit_test(test_otel_baggage_format_percent_encoding),
        cmocka_unit_test(test_otel_baggage_format_round_trip),
        cmocka_unit_test(test_otel_baggage_format_small_cap_stops),
        cmocka_unit_test(test_otel_baggage_set_and_get),
        cmocka_unit_test(test_otel_baggage_set_replaces),
        cmocka_unit_test(test_otel_baggage_set_invalid),
        cmocka_unit_test(test_otel_baggage_set_full_members),
        cmocka_unit_test(test_otel_baggage_set_full_bytes),
        cmocka_unit_test(test_otel_baggage_remove_compacts),
        cmocka_unit_test(test_otel_baggage_remove_frees_room),
        cmocka_unit_test(test_otel_baggage_at_range),
        cmocka_unit_test(test_otel_baggage_init_zeroed_is_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
