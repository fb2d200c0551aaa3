/* http.c against a real HTTPS server on loopback: JSON answers, HTTP errors, malformed JSON,
 * a 10 MB body cut off (with and without Content-Length), a slow server timed out, redirects
 * not followed, non-https URLs refused without a connection, an untrusted certificate, a
 * closed port, connections reused, the proxy environment ignored, and what a POST sends. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"
#include "connectors/http.h"
#include "fixture.h"

static struct fx_server *srv;

static int
setup(void **state)
{
	(void)state;
	srv = fx_start();
	fx_route_static(srv, "/ok", 200, "{\"hello\":\"world\"}");
	fx_route_static(srv, "/500", 500, "{\"error\":\"boom\"}");
	fx_route_static(srv, "/404", 404, "not here");
	fx_route_static(srv, "/malformed", 200, "{\"a\":");
	fx_route_static(srv, "/array", 200, "[1,2]");
	fx_route_static(srv, "/target", 200, "{\"moved\":true}");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fx_stop(srv);
	return 0;
}

static struct idg_http *
client(const char *ca, unsigned timeout_ms, size_t max)
{
	struct idg_http_cfg c = { .ca_file = ca, .connect_timeout_ms = 2000,
		.timeout_ms = timeout_ms, .response_max = max };
	struct idg_http *h = NULL;

	assert_int_equal(idg_http_new(&c, &h), 0);
	return h;
}

static char *
url(const char *path)
{
	return fx_printf("%s%s", fx_base(srv), path);
}

static int
get_json(struct idg_http *h, const char *path, cJSON **out, char *err)
{
	char *u = url(path);
	int rc = idg_http_json(h, u, NULL, out, err, 256);

	free(u);
	return rc;
}

static void
json_answer(void **state)
{
	struct idg_http *h = client(fx_ca_file(srv), 5000, 65536);
	cJSON *j = NULL;
	char err[256];

	(void)state;
	assert_int_equal(get_json(h, "/ok", &j, err), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "hello")), "world");
	cJSON_Delete(j);
	idg_http_free(h);
}

static void
http_errors_and_malformed_json(void **state)
{
	struct idg_http *h = client(fx_ca_file(srv), 5000, 65536);
	cJSON *j = NULL;
	char err[256];

	(void)state;
	assert_int_equal(get_json(h, "/500", &j, err), IDG_ERR_UNAVAIL);
	assert_string_equal(err, "IdP returned HTTP 500");
	assert_int_equal(get_json(h, "/404", &j, err), IDG_ERR_PROTO);
	assert_string_equal(err, "IdP returned HTTP 404");
	assert_int_equal(get_json(h, "/malformed", &j, err), IDG_ERR_PROTO);
	assert_string_equal(err, "malformed JSON from IdP");
	assert_int_equal(get_json(h, "/array", &j, err), IDG_ERR_PROTO);
	assert_string_equal(err, "malformed JSON from IdP");
	assert_null(j);
	idg_http_free(h);
}

static void
big(const struct fx_req *req, struct fx_resp *resp, void *arg)
{
	(void)req;
	resp->big = 10u * 1024 * 1024;
	resp->big_chunked = arg != NULL;
}

static void
ten_megabytes_are_cut_off(void **state)
{
	struct idg_http *h = client(fx_ca_file(srv), 10000, 1024 * 1024);
	cJSON *j = NULL;
	char err[256];
	int64_t t0;

	(void)state;
	fx_route(srv, "/big", big, NULL);
	fx_route(srv, "/bigchunked", big, (void *)1);
	t0 = idg_now_ms();
	assert_int_equal(get_json(h, "/big", &j, err), IDG_ERR_TOOBIG);
	assert_string_equal(err, "IdP response too large");
	assert_int_equal(get_json(h, "/bigchunked", &j, err), IDG_ERR_TOOBIG);
	assert_string_equal(err, "IdP response too large");
	assert_true(idg_now_ms() - t0 < 5000);
	/* The handle is fine afterwards. */
	assert_int_equal(get_json(h, "/ok", &j, err), 0);
	cJSON_Delete(j);
	idg_http_free(h);
}

static void
slow(const struct fx_req *req, struct fx_resp *resp, void *arg)
{
	(void)req;
	(void)arg;
	resp->delay_ms = 3000;
	resp->body = strdup("{}");
}

static void
slow_server_times_out(void **state)
{
	struct idg_http *h = client(fx_ca_file(srv), 400, 65536);
	cJSON *j = NULL;
	char err[256];
	int64_t t0, el;

	(void)state;
	fx_route(srv, "/slow", slow, NULL);
	t0 = idg_now_ms();
	assert_int_equal(get_json(h, "/slow", &j, err), IDG_ERR_TIMEOUT);
	el = idg_now_ms() - t0;
	assert_string_equal(err, "IdP unreachable (timed out)");
	assert_true(el >= 300 && el < 2000);
	idg_http_free(h);
}

static void
redirect(const struct fx_req *req, struct fx_resp *resp, void *arg)
{
	(void)req;
	resp->status = 302;
	resp->location = arg;
	resp->body = strdup("{}");
}

static void
redirects_are_not_followed(void **state)
{
	struct idg_http *h = client(fx_ca_file(srv), 5000, 65536);
	struct idg_http_resp resp = { 0 };
	char *target = url("/target"), *u = url("/redirect"), err[256];
	unsigned before = fx_hits(srv, "/target");
	cJSON *j = NULL;

	(void)state;
	fx_route(srv, "/redirect", redirect, target);
	assert_int_equal(idg_http_request(h, u, NULL, &resp, err, sizeof(err)), 0);
	assert_int_equal(resp.status, 302);
	idg_http_resp_clear(&resp);
	assert_int_equal(get_json(h, "/redirect", &j, err), IDG_ERR_PROTO);
	assert_string_equal(err, "IdP returned HTTP 302");
	assert_int_equal(fx_hits(srv, "/target"), before);
	free(target);
	free(u);
	idg_http_free(h);
}

static void
non_https_urls_are_refused_before_connecting(void **state)
{
	static const char *const bad[] = { "http://127.0.0.1/ok", "HTTPS://127.0.0.1/ok",
		"ftp://127.0.0.1/", "https://", "https:///x", "https://127.0.0.1/a b",
		"https://127.0.0.1/#frag", "file:///etc/passwd", "" };
	struct idg_http *h = client(fx_ca_file(srv), 5000, 65536);
	struct idg_http_resp resp = { 0 };
	unsigned conns = fx_connections(srv);
	char err[256], *plain;

	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(bad); i++) {
		if (idg_http_request(h, bad[i], NULL, &resp, err, sizeof(err)) != IDG_ERR_INVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_string_equal(err, "refusing a URL that is not https");
	}
	/* The server's own port, over plain http: refused too. */
	plain = fx_printf("http://127.0.0.1:%u/ok", (unsigned)fx_port(srv));
	assert_int_equal(idg_http_request(h, plain, NULL, &resp, err, sizeof(err)),
	    IDG_ERR_INVAL);
	assert_int_equal(fx_connections(srv), conns);
	assert_false(idg_http_is_https(NULL));
	assert_true(idg_http_is_https("https://idp.example/x?y=1"));
	free(plain);
	idg_http_free(h);
}

static void
untrusted_certificate_and_closed_port(void **state)
{
	struct idg_http *h = client(NULL, 5000, 65536);	/* the system's CAs only */
	struct fx_server *gone = fx_start();
	char *u, err[256];
	cJSON *j = NULL;
	int64_t t0;

	(void)state;
	assert_int_equal(get_json(h, "/ok", &j, err), IDG_ERR_UNAVAIL);
	assert_string_equal(err, "IdP unreachable (its TLS certificate is not trusted)");
	idg_http_free(h);

	u = fx_printf("%s/ok", fx_base(gone));
	fx_stop(gone);
	h = client(fx_ca_file(srv), 5000, 65536);
	t0 = idg_now_ms();
	assert_int_equal(idg_http_json(h, u, NULL, &j, err, sizeof(err)), IDG_ERR_UNAVAIL);
	assert_string_equal(err, "IdP unreachable");
	assert_true(idg_now_ms() - t0 < 2000);
	idg_http_free(h);
	free(u);

	h = client("/nonexistent/ca.pem", 5000, 65536);
	assert_int_equal(get_json(h, "/ok", &j, err), IDG_ERR_CONFIG);
	idg_http_free(h);
}

static void
connections_are_reused_and_proxies_ignored(void **state)
{
	/* A server of its own: connections other tests left half-done cannot count here. */
	struct fx_server *own = fx_start();
	struct idg_http *h = client(fx_ca_file(own), 5000, 65536);
	char *u = fx_printf("%s/ok", fx_base(own)), err[256];
	cJSON *j = NULL;

	(void)state;
	fx_route_static(own, "/ok", 200, "{}");
	setenv("https_proxy", "http://127.0.0.1:1", 1);
	setenv("HTTPS_PROXY", "http://127.0.0.1:1", 1);
	setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(idg_http_json(h, u, NULL, &j, err, sizeof(err)), 0);
		cJSON_Delete(j);
		j = NULL;
		assert_int_equal(idg_http_last_new_connections(h), i == 0 ? 1 : 0);
	}
	assert_int_equal(fx_connections(own), 1);
	assert_int_equal(fx_hits(own, "/ok"), 5);
	assert_int_equal(idg_http_requests(h), 5);
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("ALL_PROXY");
	idg_http_free(h);
	fx_stop(own);
	free(u);
}

static void
echo(const struct fx_req *req, struct fx_resp *resp, void *arg)
{
	(void)arg;
	resp->body = fx_printf("{\"method\":\"%s\",\"auth\":\"%s\",\"len\":%zu}", req->method,
	    req->auth, req->len);
}

static void
post_sends_the_form_and_the_authorization(void **state)
{
	struct idg_http *h = client(fx_ca_file(srv), 5000, 65536);
	struct idg_http_req req = { .form = "a=1&b=%20", .form_len = 9, .auth = "Basic eDp5" };
	struct fx_req seen = { 0 };
	char *u = url("/echo"), err[256];
	cJSON *j = NULL;

	(void)state;
	fx_route(srv, "/echo", echo, NULL);
	assert_int_equal(idg_http_json(h, u, &req, &j, err, sizeof(err)), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "method")), "POST");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "auth")), "Basic eDp5");
	cJSON_Delete(j);
	assert_true(fx_last(srv, "/echo", &seen));
	assert_string_equal(seen.body, "a=1&b=%20");
	fx_req_free(&seen);
	/* The next request carries neither the body nor the header. */
	assert_int_equal(idg_http_json(h, u, NULL, &j, err, sizeof(err)), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "method")), "GET");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "auth")), "");
	cJSON_Delete(j);
	free(u);
	idg_http_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_answer),
		cmocka_unit_test(http_errors_and_malformed_json),
		cmocka_unit_test(ten_megabytes_are_cut_off),
		cmocka_unit_test(slow_server_times_out),
		cmocka_unit_test(redirects_are_not_followed),
		cmocka_unit_test(non_https_urls_are_refused_before_connecting),
		cmocka_unit_test(untrusted_certificate_and_closed_port),
		cmocka_unit_test(connections_are_reused_and_proxies_ignored),
		cmocka_unit_test(post_sends_the_form_and_the_authorization),
	};

	return cmocka_run_group_tests_name("connectors/http", tests, setup, teardown);
}
