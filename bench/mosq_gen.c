/* SPDX-License-Identifier: MIT
 *
 * mosq_gen.c - a small libmosquitto load generator, the comparison peer of
 * `mq bench` for generator CPU per message (issue 5: "generator CPU per message
 * at most 1/3 of a libmosquitto-based generator's"). Not part of the CMake
 * build: bench/generator_cpu.sh compiles it with `cc ... -lmosquitto`.
 *
 * One publisher and one subscriber client in this process, each with
 * libmosquitto's own network thread (mosquitto_loop_start, the library's
 * usual way of running), MQTT 3.1.1. The main thread publishes COUNT messages
 * of SIZE bytes to one topic as fast as the broker takes them, keeping at most
 * WINDOW messages sent but not yet received by the subscriber (closed loop,
 * like `mq bench --rate max`). Each payload starts with the publisher id and a
 * sequence number, the subscriber counts what arrives, and the program exits
 * once every message arrived (or after TIMEOUT seconds).
 *
 * Output, one JSON line: sent, received, elapsed_s, cpu_us (getrusage of this
 * process: user + system) and cpu_us_per_msg (per received message).
 *
 * Usage: mosq_gen HOST PORT QOS COUNT [SIZE=64] [WINDOW=100] [TIMEOUT=120]
 */
#include <mosquitto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long long received = 0;
static int subscribed = 0, connected = 0;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void on_connect(struct mosquitto *m, void *obj, int rc) {
    (void)m;
    (void)obj;
    pthread_mutex_lock(&mu);
    if (rc == 0) ++connected;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted) {
    (void)m;
    (void)obj;
    (void)mid;
    (void)n;
    (void)granted;
    pthread_mutex_lock(&mu);
    subscribed = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg) {
    (void)m;
    (void)obj;
    if (msg->payloadlen < 12) return;
    pthread_mutex_lock(&mu);
    ++received;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

static struct mosquitto *client(const char *id, const char *host, int port) {
    struct mosquitto *m = mosquitto_new(id, true, NULL);
    if (!m) {
        perror("mosquitto_new");
        exit(1);
    }
    mosquitto_connect_callback_set(m, on_connect);
    if (mosquitto_connect(m, host, port, 60) != MOSQ_ERR_SUCCESS || mosquitto_loop_start(m) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "mosq_gen: cannot connect to %s:%d\n", host, port);
        exit(1);
    }
    return m;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: mosq_gen HOST PORT QOS COUNT [SIZE] [WINDOW] [TIMEOUT]\n");
        return 64;
    }
    const char *host = argv[1];
    const int port = atoi(argv[2]), qos = atoi(argv[3]);
    const long long count = atoll(argv[4]);
    const int size = argc > 5 ? atoi(argv[5]) : 64;
    const long long window = argc > 6 ? atoll(argv[6]) : 100;
    const double timeout = argc > 7 ? atof(argv[7]) : 120;
    if (size < 12 || count < 1 || window < 1 || qos < 0 || qos > 2) return 64;

    mosquitto_lib_init();
    char topic[64], id[64];
    snprintf(topic, sizeof topic, "mosq-gen/%d", (int)getpid());
    snprintf(id, sizeof id, "mosq-gen-s-%d", (int)getpid());
    struct mosquitto *sub = client(id, host, port);
    mosquitto_message_callback_set(sub, on_message);
    mosquitto_subscribe_callback_set(sub, on_subscribe);
    snprintf(id, sizeof id, "mosq-gen-p-%d", (int)getpid());
    struct mosquitto *pub = client(id, host, port);
    /* QoS 1/2: as many in flight as the end-to-end window allows. */
    mosquitto_max_inflight_messages_set(pub, (unsigned)(window > 65535 ? 65535 : window));

    pthread_mutex_lock(&mu);
    while (connected < 2) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    mosquitto_subscribe(sub, NULL, topic, qos);
    pthread_mutex_lock(&mu);
    while (!subscribed) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);

    unsigned char *payload = calloc(1, (size_t)size);
    memset(payload + 12, 'x', (size_t)size - 12);
    const uint32_t pub_id = 0;
    memcpy(payload, &pub_id, 4);
    const double t0 = now_s();
    long long sent = 0;
    int timed_out = 0;
    while (sent < count) {
        pthread_mutex_lock(&mu);
        while (sent - received >= window && !timed_out) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 100 * 1000 * 1000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec += 1;
                until.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&cv, &mu, &until);
            if (now_s() - t0 > timeout) timed_out = 1;
        }
        pthread_mutex_unlock(&mu);
        if (timed_out) break;
        const uint64_t seq = (uint64_t)sent;
        memcpy(payload + 4, &seq, 8);
        if (mosquitto_publish(pub, NULL, topic, size, payload, qos, false) != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "mosq_gen: publish failed\n");
            break;
        }
        ++sent;
    }
    pthread_mutex_lock(&mu);
    while (received < sent && now_s() - t0 <= timeout) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&cv, &mu, &until);
    }
    const long long got = received;
    pthread_mutex_unlock(&mu);
    const double elapsed = now_s() - t0;

    mosquitto_disconnect(pub);
    mosquitto_disconnect(sub);
    mosquitto_loop_stop(pub, false);
    mosquitto_loop_stop(sub, false);
    mosquitto_destroy(pub);
    mosquitto_destroy(sub);
    mosquitto_lib_cleanup();
    free(payload);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const double cpu_us = (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
                          (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
    printf("{\"sent\":%lld,\"received\":%lld,\"elapsed_s\":%.3f,\"cpu_us\":%.0f,\"cpu_us_per_msg\":%.3f}\n", sent,
           got, elapsed, cpu_us, got > 0 ? cpu_us / (double)got : 0.0);
    return got == sent ? 0 : 1;
}
