/* The peak float32 FMA throughput of this machine's cores: each thread
 * issues independent AVX-512 (or, with -DAVX2, AVX2) fused multiply-adds
 * on sixteen registers, nothing else, and prints GFLOPS.
 *
 *   gcc -O2 -mavx512f -pthread -o fma bench/peak/fma.c && ./fma THREADS
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef AVX2
#define FMA(r) "vfmadd231ps %%ymm14,%%ymm15,%%ymm" #r "\n"
#define LANES 8
#else
#define FMA(r) "vfmadd231ps %%zmm14,%%zmm15,%%zmm" #r "\n"
#define LANES 16
#endif

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static double gflops[64];

static void *run(void *arg) {
	long n = 100000000;
	double t = now();
	for (long i = 0; i < n; i++) {
		__asm__ volatile(FMA(0) FMA(1) FMA(2) FMA(3) FMA(4) FMA(5) FMA(6) FMA(7)
		                 FMA(8) FMA(9) FMA(10) FMA(11) FMA(12) FMA(13)
		                 ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
		                 "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13");
	}
	t = now() - t;
	gflops[(long)arg] = n * 14.0 * 2 * LANES / t / 1e9;
	return NULL;
}

int main(int argc, char **argv) {
	int threads = argc > 1 ? atoi(argv[1]) : 1;
	if (threads < 1 || threads > 64) {
		fprintf(stderr, "fma: threads %s: want 1 to 64\n", argv[1]);
		return 2;
	}
	pthread_t th[64];
	for (long i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, run, (void *)i);
	double sum = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		sum += gflops[i];
	}
	printf("peak FMA, %d thread(s): %.1f GFLOPS (%.1f per thread)\n", threads, sum, sum / threads);
	return 0;
}
