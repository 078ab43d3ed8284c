/* Keeps CPython's freed data-stack chunks for reuse, as CPython 3.13.3 and later do: see
 * NOTE [Stack chunks kept] in stack_chunks.py. Installed as the object arena allocator, it
 * passes every request through to the allocator it replaces, except that blocks of at most
 * KEPT_LARGEST bytes (data-stack chunks are 16 KiB; pymalloc's arenas are larger) are held
 * when freed and handed out again for a request of the same size. The interpreter calls
 * these with the GIL held. */
#include <stddef.h>
#include <string.h>

typedef void *(*alloc_fn)(void *, size_t);
typedef void (*free_fn)(void *, void *, size_t);

#define KEPT_SLOTS 8
#define KEPT_LARGEST (64 * 1024)

static void *base_ctx;
static alloc_fn base_alloc;
static free_fn base_free;
static void *kept[KEPT_SLOTS];
static size_t kept_size[KEPT_SLOTS];
static int n_kept;
static unsigned long long n_reused;

void chunks_init(void *ctx, alloc_fn alloc, free_fn release) {
    base_ctx = ctx;
    base_alloc = alloc;
    base_free = release;
}

void *chunks_alloc(void *ctx, size_t size) {
    (void)ctx;
    for (int i = n_kept - 1; i >= 0; i--) {
        if (kept_size[i] == size) {
            void *block = kept[i];
            n_kept--;
            memmove(&kept[i], &kept[i + 1], (size_t)(n_kept - i) * sizeof kept[0]);
            memmove(&kept_size[i], &kept_size[i + 1], (size_t)(n_kept - i) * sizeof kept_size[0]);
            n_reused++;
            return block;
        }
    }
    return base_alloc(base_ctx, size);
}

void chunks_free(void *ctx, void *block, size_t size) {
    (void)ctx;
    if (block == NULL || size > KEPT_LARGEST) {
        base_free(base_ctx, block, size);
        return;
    }
    if (n_kept == KEPT_SLOTS) { /* the oldest goes back */
        base_free(base_ctx, kept[0], kept_size[0]);
        n_kept--;
        memmove(&kept[0], &kept[1], (size_t)n_kept * sizeof kept[0]);
        memmove(&kept_size[0], &kept_size[1], (size_t)n_kept * sizeof kept_size[0]);
    }
    kept[n_kept] = block;
    kept_size[n_kept] = size;
    n_kept++;
}

unsigned long long chunks_reused(void) { return n_reused; }
