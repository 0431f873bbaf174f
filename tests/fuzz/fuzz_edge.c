/*
 * fuzz_edge.c - what a client sends first: the HTTP request framing
 * (wire.c, through the filter in chunks and the head check on its own)
 * and the PROXY v2 header (proxy.c). Any bytes give requests passed on
 * whole or a refusal with a status and a reason, never a crash, and
 * what is passed on is framed the way it was checked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "proxy.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The input through the filter, in chunks of 1 to 16 bytes. */
static void
filter(const uint8_t *data, size_t size)
{
	struct evbuffer *src = evbuffer_new(), *dst = evbuffer_new();
	struct wire w;
	size_t i = 0, k;

	if (src == NULL || dst == NULL)
		abort();
	wire_init(&w, 512, 64);
	while (i < size) {
		k = (size_t)(data[i] & 15) + 1;
		k = k < size - i ? k : size - i;
		evbuffer_add(src, data + i, k);
		i += k;
		(void)wire_filter(src, dst, -1, BEV_NORMAL, &w);
		/* everything is taken in or dropped, but a CR that may
		 * start the blank line before a request */
		if (evbuffer_get_length(src) > 1)
			abort();
	}
	if (w.refuse_at != 0 && (w.refusal.status < 400 ||
	    w.refusal.why[0] == '\0' || w.refusal.code == NULL))
		abort();	/* refused without a status or a reason */
	wire_free(&w);
	evbuffer_free(src);
	evbuffer_free(dst);
}

static void
head(const uint8_t *data, size_t size)
{
	struct wire_head h;
	char *p = malloc(size + WIRE_SLACK);
	size_t n;

	if (p == NULL)
		abort();
	memcpy(p, data, size);
	n = wire_check_head(p, size, 64, &h);
	if (h.status == 0 && (n < 4 || n > size + WIRE_SLACK ||
	    memcmp(p + n - 4, "\r\n\r\n", 4) != 0 || h.body > 64))
		abort();
	if (h.status != 0 && (h.status < 400 || h.why[0] == '\0'))
		abort();
	free(p);
}

static void
proxy(const uint8_t *data, size_t size)
{
	char addr[PROXY_ADDR_LEN];
	const char *why = NULL;
	size_t need = 0, len;

	for (len = 0; len <= size; len++) {
		switch (proxy_parse(data, len, &need, addr, &why)) {
		case PROXY_MORE:
			if (need <= len || need > PROXY_MAX)
				abort();	/* asks for what it has, or too much */
			break;
		case PROXY_BAD:
			if (why == NULL)
				abort();
			return;
		case PROXY_OK:
			if (len != need || strlen(addr) >= PROXY_ADDR_LEN)
				abort();
			return;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		filter(data + 1, size - 1);
		break;
	case 1:
		head(data + 1, size - 1);
		break;
	default:
		proxy(data + 1, size - 1);
		break;
	}
	return 0;
}
