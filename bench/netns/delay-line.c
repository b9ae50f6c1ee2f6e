/*
 * A point-to-point IP link with a fixed one-way delay between two network namespaces.
 *
 * The kernel here has no netem qdisc (CONFIG_NET_SCH_NETEM is not set, nor fq for an EDT
 * delay), so the delay is made in user space: one TUN device in each namespace, and this
 * process copies every packet from one to the other after holding it for the one-way delay.
 * The delay is the same for every packet of a direction, so each direction is a FIFO ring and
 * order is kept; a full ring drops (like a full queue on a real link).
 *
 * usage: delay-line NETNS_PATH_A TUN_A NETNS_PATH_B TUN_B ONE_WAY_DELAY_US
 * prints "ready" once both devices exist; runs until killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 8192   /* per direction: about 1.3 Gbit/s in flight at 75 ms one way */
#define PACKET_MAX 2048
#define BATCH 64     /* packets read per wakeup and device, so both directions get turns */

struct slot { uint64_t due_ns; uint32_t len; unsigned char data[PACKET_MAX]; };
struct ring { struct slot *slots; uint32_t head, tail; uint64_t dropped; };

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* Enters the namespace at nspath and creates (attaches) the TUN device name there. */
static int open_tun(const char *nspath, const char *name) {
  int ns = open(nspath, O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) die(nspath);
  close(ns);
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) die("/dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) die("TUNSETIFF");
  return fd;
}

/* Reads up to BATCH packets from fd into the ring, each due delay_ns from now. */
static void take_in(int fd, struct ring *r, uint64_t delay_ns) {
  for (int k = 0; k < BATCH; k++) {
    static unsigned char scratch[PACKET_MAX];
    int full = r->tail - r->head == SLOTS;
    struct slot *s = &r->slots[r->tail % SLOTS];
    ssize_t n = read(fd, full ? scratch : s->data, PACKET_MAX);
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN && errno != EINTR) die("read");
      return;
    }
    if (full) { r->dropped++; continue; }
    s->len = (uint32_t)n;
    s->due_ns = now_ns() + delay_ns;
    r->tail++;
  }
}

/* Writes every packet whose time has come to fd. */
static void give_out(int fd, struct ring *r, uint64_t now) {
  while (r->head != r->tail) {
    struct slot *s = &r->slots[r->head % SLOTS];
    if (s->due_ns > now) return;
    if (write(fd, s->data, s->len) < 0 && errno != EAGAIN && errno != EINTR && errno != EIO) die("write");
    r->head++;
  }
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s NETNS_A TUN_A NETNS_B TUN_B ONE_WAY_DELAY_US\n", argv[0]);
    return 2;
  }
  uint64_t delay_ns = strtoull(argv[5], NULL, 10) * 1000u;
  int fd[2] = { open_tun(argv[1], argv[2]), open_tun(argv[3], argv[4]) };
  struct ring ring[2]; /* ring[i]: packets read from fd[i], going to fd[1 - i] */
  for (int i = 0; i < 2; i++) {
    ring[i].slots = malloc(sizeof(struct slot) * SLOTS);
    if (!ring[i].slots) die("malloc");
    ring[i].head = ring[i].tail = 0;
    ring[i].dropped = 0;
  }
  printf("ready\n");
  fflush(stdout);
  struct pollfd p[2] = { { .fd = fd[0], .events = POLLIN }, { .fd = fd[1], .events = POLLIN } };
  for (;;) {
    uint64_t now = now_ns();
    give_out(fd[1], &ring[0], now);
    give_out(fd[0], &ring[1], now);
    /* sleep until the earliest queued packet is due, or a packet arrives */
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < 2; i++)
      if (ring[i].head != ring[i].tail && ring[i].slots[ring[i].head % SLOTS].due_ns < next) next = ring[i].slots[ring[i].head % SLOTS].due_ns;
    struct timespec wait, *wp = NULL;
    if (next != UINT64_MAX) {
      uint64_t d = next > now ? next - now : 0;
      wait.tv_sec = (time_t)(d / 1000000000u);
      wait.tv_nsec = (long)(d % 1000000000u);
      wp = &wait;
    }
    if (ppoll(p, 2, wp, NULL) < 0 && errno != EINTR) die("ppoll");
    for (int i = 0; i < 2; i++)
      if (p[i].revents & POLLIN) take_in(fd[i], &ring[i], delay_ns);
  }
}
