/*
 * lg: the bench's HTTP/1.1 load generator (compiled at bench time with the machine's gcc).
 *
 * One thread, epoll, level-triggered. Each slot opens a TCP connection, optionally does a
 * SOCKS5 (no auth, CONNECT by IPv4) or HTTP CONNECT handshake, then sends GET requests and reads
 * the responses (Content-Length bodies, as nginx serves static files). Written in C so that the
 * generator costs far less CPU than any proxy under test on a 2-core box.
 *
 * Modes:
 *   new connection per request (default): "Connection: close"; once the whole body is in, the
 *     client closes (as curl does; waiting for the proxy to close first would measure its
 *     half-close policy instead, e.g. v2ray holds a tunnel until the client's side ends).
 *     On loopback, Linux reuses our TIME_WAIT ports (tcp_tw_reuse=2). With -e the slot waits
 *     for the far side's EOF instead. Latency = connect() .. last body byte (handshakes included).
 *   keep-alive (-k): one tunnel per slot, requests back to back. Latency = send .. last body byte.
 *   hold (-H): every slot opens a tunnel, does one keep-alive request, then stays idle. Prints
 *     "READY ok failed" on stderr and waits until stdin closes or -d seconds pass.
 *   rate (-R N): starts at most N requests per second (still capped by -c slots).
 *
 * Every run is bounded: -n requests at most and -d seconds at most; a request idle for -t ms
 * fails. The result is one JSON object on stdout (rps, errors, bytes, percentiles, CDF).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { M_DIRECT, M_SOCKS5, M_CONNECT };
enum { S_IDLE, S_CONNECTING, S_SOCKS_GREET, S_SOCKS_REPLY, S_CONNECT_REPLY, S_HDR, S_BODY, S_EOF, S_HELD };

#define HDR_MAX 8192
#define MAX_SAMPLES 4000000

typedef struct {
  int fd;
  int state;
  int hlen;            /* bytes in hdr */
  long long need;      /* body bytes still to read */
  uint64_t t_start;    /* latency origin, ns */
  uint64_t t_active;   /* last progress, ns (for the idle timeout) */
  char hdr[HDR_MAX];
} slot_t;

static int mode = M_DIRECT, keepalive = 0, hold = 0, wait_eof = 0, conc = 50;
static long long total = 1000, started = 0, done = 0, errors = 0, bytes = 0, cut = 0;
static double max_secs = 10, rate = 0;
static int timeout_ms = 10000;
static struct sockaddr_in proxy_addr, target_addr;
static char req[1024];
static int req_len;
static uint32_t *samples; /* latency in microseconds */
static long long nsamples = 0;
static int epfd;
static char scratch[1 << 18];
static char errmsg[256] = "";

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse_hostport(const char *s, struct sockaddr_in *a) {
  char host[64];
  const char *c = strrchr(s, ':');
  if (!c || c - s >= (int)sizeof host) return -1;
  memcpy(host, s, c - s);
  host[c - s] = 0;
  memset(a, 0, sizeof *a);
  a->sin_family = AF_INET;
  a->sin_port = htons((uint16_t)atoi(c + 1));
  return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static void note_error(const char *what) {
  errors++;
  if (!errmsg[0]) snprintf(errmsg, sizeof errmsg, "%s (errno %d)", what, errno);
}

static void slot_close(slot_t *s) {
  if (s->fd >= 0) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
  }
  s->fd = -1;
  s->state = S_IDLE;
}

static void want(slot_t *s, uint32_t ev) {
  struct epoll_event e = {.events = ev, .data.ptr = s};
  epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &e);
}

static int send_all(slot_t *s, const void *buf, size_t len) {
  ssize_t w = send(s->fd, buf, len, MSG_NOSIGNAL);
  return w == (ssize_t)len ? 0 : -1; /* small writes on a fresh socket: short means broken */
}

static void fail(slot_t *s, const char *what) {
  note_error(what);
  done++;
  slot_close(s);
}

static void send_request(slot_t *s) {
  if (keepalive || hold) s->t_start = now_ns();
  s->hlen = 0;
  s->state = S_HDR;
  if (send_all(s, req, req_len) < 0) fail(s, "send request");
}

/* After the proxy handshake (or right after connect in direct mode). */
static void tunnel_ready(slot_t *s) { send_request(s); }

static void on_connected(slot_t *s) {
  int err = 0;
  socklen_t l = sizeof err;
  getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
  if (err) {
    errno = err;
    fail(s, "connect");
    return;
  }
  want(s, EPOLLIN);
  if (mode == M_SOCKS5) {
    static const unsigned char greet[3] = {5, 1, 0};
    s->state = S_SOCKS_GREET;
    s->hlen = 0;
    if (send_all(s, greet, 3) < 0) fail(s, "socks greeting");
  } else if (mode == M_CONNECT) {
    char ip[32], buf[160];
    inet_ntop(AF_INET, &target_addr.sin_addr, ip, sizeof ip);
    int n = snprintf(buf, sizeof buf, "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n", ip, ntohs(target_addr.sin_port), ip,
                     ntohs(target_addr.sin_port));
    s->state = S_CONNECT_REPLY;
    s->hlen = 0;
    if (send_all(s, buf, n) < 0) fail(s, "connect request");
  } else {
    tunnel_ready(s);
  }
}

static void slot_open(slot_t *s) {
  started++;
  s->t_start = s->t_active = now_ns();
  s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (s->fd < 0) {
    note_error("socket");
    done++;
    s->fd = -1;
    return;
  }
  int one = 1;
  setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in *to = mode == M_DIRECT ? &target_addr : &proxy_addr;
  s->state = S_CONNECTING;
  struct epoll_event e = {.events = EPOLLOUT, .data.ptr = s};
  epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &e);
  if (connect(s->fd, (struct sockaddr *)to, sizeof *to) < 0 && errno != EINPROGRESS) fail(s, "connect");
}

/* A whole response was read. */
static void response_done(slot_t *s) {
  uint64_t t = now_ns();
  if (nsamples < MAX_SAMPLES) samples[nsamples++] = (uint32_t)((t - s->t_start) / 1000);
  done++;
  if (hold) {
    s->state = S_HELD;
    return;
  }
  if (keepalive) {
    if (started < total) {
      started++;
      send_request(s);
    } else {
      slot_close(s);
    }
    return;
  }
  if (wait_eof) {
    s->state = S_EOF; /* -e: wait for the far side to close first */
    return;
  }
  slot_close(s); /* as curl does: the body is complete, so the client closes */
}

/* Parses the status line and Content-Length; returns header length or 0 if incomplete, -1 bad. */
static int parse_head(slot_t *s) {
  char *end = memmem(s->hdr, s->hlen, "\r\n\r\n", 4);
  if (!end) return s->hlen >= HDR_MAX ? -1 : 0;
  int hl = (int)(end - s->hdr) + 4;
  if (s->hlen < 12 || memcmp(s->hdr + 9, "200", 3) != 0) return -1;
  s->need = -1;
  for (char *p = s->hdr; p < end; p++) {
    if ((*p == 'c' || *p == 'C') && strncasecmp(p, "content-length:", 15) == 0) {
      s->need = atoll(p + 15);
      break;
    }
  }
  return s->need < 0 ? -1 : hl;
}

static void on_readable(slot_t *s) {
  for (;;) {
    if (s->state == S_BODY || s->state == S_EOF || s->state == S_HELD) {
      ssize_t r = recv(s->fd, scratch, sizeof scratch, 0);
      if (r == 0) {
        if (s->state == S_EOF) slot_close(s); /* the normal end of a new-connection request */
        else if (s->state == S_HELD) { note_error("held tunnel closed"); slot_close(s); }
        else fail(s, "eof in body");
        return;
      }
      if (r < 0) {
        if (errno == EAGAIN) return;
        if (s->state == S_EOF) { slot_close(s); return; }
        if (s->state == S_HELD) { note_error("held tunnel reset"); slot_close(s); return; }
        fail(s, "recv body");
        return;
      }
      s->t_active = now_ns();
      if (s->state != S_BODY) continue; /* bytes after the response: ignore */
      bytes += r;
      s->need -= r;
      if (s->need <= 0) {
        response_done(s);
        if (s->state != S_BODY && s->state != S_EOF) return;
      }
      continue;
    }
    /* header-ish states: read into hdr */
    ssize_t r = recv(s->fd, s->hdr + s->hlen, HDR_MAX - s->hlen, 0);
    if (r == 0) { fail(s, "eof in handshake/header"); return; }
    if (r < 0) {
      if (errno == EAGAIN) return;
      fail(s, "recv header");
      return;
    }
    s->t_active = now_ns();
    s->hlen += (int)r;
    if (s->state == S_SOCKS_GREET) {
      if (s->hlen < 2) continue;
      if (s->hdr[0] != 5 || s->hdr[1] != 0) { fail(s, "socks method refused"); return; }
      unsigned char rq[10] = {5, 1, 0, 1};
      memcpy(rq + 4, &target_addr.sin_addr, 4);
      memcpy(rq + 8, &target_addr.sin_port, 2);
      s->state = S_SOCKS_REPLY;
      s->hlen = 0;
      if (send_all(s, rq, sizeof rq) < 0) { fail(s, "socks request"); return; }
    } else if (s->state == S_SOCKS_REPLY) {
      if (s->hlen < 5) continue;
      if (s->hdr[1] != 0) { fail(s, "socks connect refused"); return; }
      int atyp = (unsigned char)s->hdr[3];
      int len = atyp == 1 ? 10 : atyp == 4 ? 22 : atyp == 3 ? 7 + (unsigned char)s->hdr[4] : -1;
      if (len < 0) { fail(s, "socks reply atyp"); return; }
      if (s->hlen < len) continue;
      tunnel_ready(s);
      if (s->state == S_IDLE) return;
    } else if (s->state == S_CONNECT_REPLY) {
      char *end = memmem(s->hdr, s->hlen, "\r\n\r\n", 4);
      if (!end) {
        if (s->hlen >= HDR_MAX) { fail(s, "connect reply too long"); return; }
        continue;
      }
      if (s->hlen < 12 || memcmp(s->hdr + 9, "200", 3) != 0) { fail(s, "connect refused"); return; }
      tunnel_ready(s);
      if (s->state == S_IDLE) return;
    } else if (s->state == S_HDR) {
      int hl = parse_head(s);
      if (hl < 0) { fail(s, "bad response head"); return; }
      if (hl == 0) continue;
      long long extra = s->hlen - hl;
      bytes += extra;
      s->need -= extra;
      s->state = S_BODY;
      if (s->need <= 0) {
        response_done(s);
        if (s->state != S_BODY && s->state != S_EOF) return;
      }
    } else {
      return;
    }
  }
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(double q) {
  if (nsamples == 0) return 0;
  long long i = (long long)(q * (double)(nsamples - 1) + 0.5);
  return samples[i] / 1000.0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: lg -T ip:port [-m direct|socks5|connect] [-P ip:port] [-p path] [-c conns] [-n requests]\n"
          "          [-d seconds] [-t timeout_ms] [-k] [-H] [-R rps] [-e]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *path = "/", *target = NULL, *proxy = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "m:P:T:p:c:n:d:t:kHR:e")) != -1) {
    switch (opt) {
      case 'm': mode = !strcmp(optarg, "socks5") ? M_SOCKS5 : !strcmp(optarg, "connect") ? M_CONNECT : M_DIRECT; break;
      case 'P': proxy = optarg; break;
      case 'T': target = optarg; break;
      case 'p': path = optarg; break;
      case 'c': conc = atoi(optarg); break;
      case 'n': total = atoll(optarg); break;
      case 'd': max_secs = atof(optarg); break;
      case 't': timeout_ms = atoi(optarg); break;
      case 'k': keepalive = 1; break;
      case 'H': hold = 1; break;
      case 'R': rate = atof(optarg); break;
      case 'e': wait_eof = 1; break;
      default: usage();
    }
  }
  if (!target || parse_hostport(target, &target_addr) < 0) usage();
  if (mode != M_DIRECT && (!proxy || parse_hostport(proxy, &proxy_addr) < 0)) usage();
  if (conc < 1 || total < 1) usage();
  if (hold) total = conc;
  char ip[32];
  inet_ntop(AF_INET, &target_addr.sin_addr, ip, sizeof ip);
  req_len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: clash-ts-bench\r\n%s\r\n", path, ip,
                     ntohs(target_addr.sin_port), keepalive || hold ? "" : "Connection: close\r\n");
  samples = malloc(sizeof(uint32_t) * MAX_SAMPLES);
  slot_t *slots = calloc((size_t)conc, sizeof(slot_t));
  if (!samples || !slots) return 3;
  for (int i = 0; i < conc; i++) slots[i].fd = -1;
  epfd = epoll_create1(0);
  struct epoll_event evs[512];
  uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)(max_secs * 1e9), last_scan = t0;
  uint64_t timeout_ns = (uint64_t)timeout_ms * 1000000ull;
  int ready_said = 0, stdin_open = hold;
  /* hold mode opens tunnels at most this many at a time, as a client pool would */
  int open_cap = hold ? 256 : conc;
  for (;;) {
    uint64_t t = now_ns();
    if (t >= deadline) break;
    int inflight = 0, held = 0;
    for (int i = 0; i < conc; i++) {
      if (slots[i].state == S_HELD) held++;
      else if (slots[i].state != S_IDLE) inflight++;
    }
    /* start new work in idle slots */
    long long allowed = total - started;
    if (rate > 0) {
      long long by_rate = (long long)((double)(t - t0) / 1e9 * rate) + 1 - started;
      if (by_rate < allowed) allowed = by_rate;
    }
    for (int i = 0; i < conc && allowed > 0 && inflight < open_cap; i++) {
      if (slots[i].state == S_IDLE && !(hold && slots[i].t_start)) {
        slot_open(&slots[i]);
        allowed--;
        inflight++;
      }
    }
    if (!hold && done >= total && inflight == 0) break;
    if (hold && inflight == 0 && started >= total) {
      if (!ready_said) {
        fprintf(stderr, "READY %d %lld\n", held, errors);
        fflush(stderr);
        ready_said = 1;
      }
      if (!stdin_open) break;
    }
    int n = epoll_wait(epfd, evs, 512, rate > 0 || ready_said ? 1 : 10);
    for (int i = 0; i < n; i++) {
      slot_t *s = evs[i].data.ptr;
      if (s->state == S_CONNECTING) {
        if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(s);
      } else if (s->state != S_IDLE) {
        on_readable(s);
      }
    }
    if (ready_said && stdin_open) {
      struct pollfd p = {.fd = 0, .events = POLLIN};
      if (poll(&p, 1, 0) > 0) {
        ssize_t r = read(0, scratch, sizeof scratch);
        if (r <= 0) stdin_open = 0;
      }
    }
    t = now_ns();
    if (t - last_scan > 100000000ull) {
      last_scan = t;
      for (int i = 0; i < conc; i++) {
        slot_t *s = &slots[i];
        if (s->state != S_IDLE && s->state != S_HELD && t - s->t_active > timeout_ns) {
          if (s->state == S_EOF) slot_close(s); /* response counted; the close was slow */
          else fail(s, "timeout");
        }
      }
    }
  }
  double elapsed = (double)(now_ns() - t0) / 1e9;
  int held = 0;
  for (int i = 0; i < conc; i++) {
    if (slots[i].state == S_HELD) held++;
    else if (slots[i].state != S_IDLE && slots[i].state != S_EOF) cut++; /* cut off by the deadline */
    slot_close(&slots[i]);
  }
  qsort(samples, (size_t)nsamples, sizeof(uint32_t), cmp_u32);
  long long ok = nsamples;
  printf("{\"ok\":%lld,\"errors\":%lld,\"cut\":%lld,\"held\":%d,\"elapsed\":%.6f,\"rps\":%.1f,\"bytes\":%lld,\"bytesPerSec\":%.1f,", ok, errors, cut,
         held, elapsed, ok / elapsed, bytes, bytes / elapsed);
  printf("\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,\"firstError\":\"%s\",\"cdf\":[", pct(0.5), pct(0.9),
         pct(0.99), pct(0.999), pct(1.0), errmsg);
  /* CDF points in ms: dense at the tail, where proxies differ */
  static const double qs[] = {0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97,
                              0.98, 0.99, 0.995, 0.997, 0.999, 0.9995, 0.9999, 1.0};
  for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) printf("%s[%g,%.3f]", i ? "," : "", qs[i], pct(qs[i]));
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  printf("],\"cpuSeconds\":%.4f}\n", cpu);
  return 0;
}
