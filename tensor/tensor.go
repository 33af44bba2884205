// Package tensor holds cifarnet's float32 compute kernels: a packed,
// register-blocked matrix product (Gemm) and the elementwise passes of
// training, run on a pool of persistent workers.
//
// An Engine owns the worker pool and the packing buffers, so a training run
// allocates its scratch space once. Every kernel gives bit-identical results
// for any number of threads: work is split so that each output element is
// computed by one task in a fixed order.
package tensor

// Engine runs kernels on a worker pool with reusable scratch buffers.
// An Engine is used by one goroutine at a time.
type Engine struct {
	pool   *Pool
	kernel kernel
	simd   simd
	packA  []float32
	packB  []float32

	// The call in flight of each parallel kernel, and its task function
	// bound once, so that handing work to the pool allocates nothing.
	gemm         gemmCall
	gemmPackTask func(int)
	gemmTileTask func(int)
	gemmThenTask func(int)
	cols         colsCall
	colsTask     func(int)
	nadam        nadamCall
	nadamTask    func(int)
	chunks       chunksCall
	chunksTask   func(int)
	gather       gatherCall
	gatherTask   func(int)
	elu          eluCall
	eluTask      func(int)
	// GemmThen's scratch blocks, when it stores no C.
	blocks scratchBlocks
}

// NewEngine returns an engine with the given number of threads
// (<= 0: GOMAXPROCS) using the fastest micro-kernel this CPU supports.
func NewEngine(threads int) *Engine {
	return newEngine(threads, bestKernel(), bestSIMD())
}

func newEngine(threads int, kr kernel, sd simd) *Engine {
	e := &Engine{pool: NewPool(threads), kernel: kr, simd: sd}
	e.gemmPackTask, e.gemmTileTask, e.gemmThenTask, e.colsTask = e.gemmPack, e.gemmTile, e.gemmThenBlock, e.colsPanel
	e.nadamTask, e.gatherTask, e.chunksTask, e.eluTask = e.nadamChunkTask, e.gatherRows, e.chunkTask, e.eluChunkTask
	return e
}

// Kernel names the Gemm micro-kernel in use ("generic", "avx512", ...).
func (e *Engine) Kernel() string { return e.kernel.name }

// Threads returns the number of threads the engine's loops run on.
func (e *Engine) Threads() int { return e.pool.Threads() }

// Follow makes the engine's loops run on t's count of threads from the
// next loop on, whenever t changes (Pool.Follow); results do not change.
func (e *Engine) Follow(t *ThreadTarget) { e.pool.Follow(t) }

// Close stops the engine's workers.
func (e *Engine) Close() { e.pool.Close() }
