/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stacks captured in the kernel at the moment of an event (stack.bpf.h), shared by every probe
 * through two maps the agent reads when it symbolizes (io.jfrebpf.agent.stack.StackMaps):
 *  - kernel_stacks: BPF_MAP_TYPE_STACK_TRACE, filled by bpf_get_stackid (the kernel deduplicates);
 *  - user_stacks: our own walk (HotSpot's frames by their code blobs, native ones by frame
 *    pointer), keyed by a 64-bit hash of its frames, so a hot stack is stored once. For a frame in HotSpot's template interpreter the walk records the
 *    Method* and bytecode pointer of the frame instead of its pc: the pc says nothing about
 *    which Java method runs there.
 * Mirrored in Java by UserStack (checked by LayoutTest).
 */
#ifndef JFR_EBPF_STACK_H
#define JFR_EBPF_STACK_H

#include "common.h"

/* Frames of a user stack: deeper stacks are cut and marked USER_STACK_TRUNCATED. */
#define USER_STACK_MAX_DEPTH 128
/* Frames of a kernel stack (the kernel's perf_event_max_stack default). */
#define KERNEL_STACK_MAX_DEPTH 127
/* Distinct stacks kept in the kernel; the least recently used go first (the agent caches them). */
#define USER_STACKS_MAX_ENTRIES 4096
#define KERNEL_STACKS_MAX_ENTRIES 4096

/* user_stack.flags */
#define USER_STACK_TRUNCATED 1u    /* the walk stopped at USER_STACK_MAX_DEPTH: the stack goes on */
#define USER_STACK_RESUMED 2u      /* the native frames under the last Java frame were not found (the frame
                                      chain lost its way there): the innermost frame, then the Java frames */
#define USER_STACK_INCOMPLETE 4u   /* the walk stopped at a frame it could not unwind (no code blob there,
                                      no caller that checks out, a caller not above it): the stack goes on */
#define USER_STACK_CONTINUATION 8u /* a mounted virtual thread's frames below its last thawed one (or below the last
                                      frame of its stack chunks that checked out) were not readable in its stack
                                      chunks: the walk went on at Continuation.enterSpecial, a gap between */

/* user_frame.aux: set for an interpreted frame, whose pc field holds its Method* and aux its bcp */
#define USER_FRAME_INTERPRETED (1ull << 63)
/* user_frame.aux of another frame that a signal interrupted: its pc is any pc, not a return address */
#define USER_FRAME_INTERRUPTED (1ull << 62)
/*
 * user_frame.aux of a frame of compiled Java code: the low 32 bits hold its nmethod's compile id
 * (nmethod::_compile_id, unique in the JVM's life). The agent names the frame later, by the
 * nmethod it then finds at the pc: the code may have been freed and its space taken by another
 * nmethod since, which the compile id tells apart.
 */
#define USER_FRAME_NMETHOD (1ull << 61)
#define USER_FRAME_COMPILE_ID 0xffffffffull

struct user_frame {
	__u64 pc;   /* return address (pc of the innermost frame), or Method* of an interpreted frame */
	__u64 aux;  /* 0, USER_FRAME_INTERPRETED | bcp, or USER_FRAME_INTERRUPTED and/or USER_FRAME_NMETHOD | compile id */
};

struct user_stack {
	__u32 depth;  /* frames used */
	__u32 flags;  /* USER_STACK_TRUNCATED, USER_STACK_RESUMED, USER_STACK_INCOMPLETE, USER_STACK_CONTINUATION */
	struct user_frame frames[USER_STACK_MAX_DEPTH];
};

/*
 * What the walk needs to know of this JVM's code cache to unwind frames without frame pointers
 * (io.jfrebpf.agent.jvm.HotSpotFrames, from VMStructs): set in .rodata before load.
 */
#define CODE_HEAPS_MAX 4
/* Entries of the stubs in HotSpot's stub buffers (StubRoutines), sorted: where each stub begins. */
#define STUB_ENTRIES_MAX 512
/*
 * The process's executable mappings, sorted and disjoint (io.jfrebpf.agent.stack.ExecutableRanges):
 * a native return address must lie in one. Past EXEC_RANGES_MAX the agent merges the ranges closest
 * together (a superset only weakens the check). count 0: not known, every address passes.
 */
#define EXEC_RANGES_MAX 512
struct exec_ranges {
	__u32 count;
	__u32 _pad;
	__u64 start[EXEC_RANGES_MAX];
	__u64 end[EXEC_RANGES_MAX];
};
/* Bytes read at once at a code blob: its heap block's header, the CodeBlob and the nmethod fields the walk reads. */
#define BLOB_HEADER_MAX 256

struct code_heap {
	__u64 low;          /* CodeHeap::_memory: [low, high) */
	__u64 high;
	__u64 segmap;       /* CodeHeap::_segmap's low: one byte per segment */
	__u32 log2_segment; /* CodeHeap::_log2_segment_size */
	__u32 _pad;
};

struct hotspot_layout {
	struct code_heap heaps[CODE_HEAPS_MAX];
	__u32 heap_count;        /* 0: the code cache's frames are walked by frame pointer */
	__u32 heap_block_size;   /* sizeof(HeapBlock): the blob follows its block's header */
	__u32 header_size;       /* bytes read of a blob (with heap_block_size: at most BLOB_HEADER_MAX), covering every offset below */
	__u16 block_used;        /* HeapBlock::Header::_used */
	__u16 blob_size;         /* CodeBlob::_size (int) */
	__u16 blob_code_offset;  /* CodeBlob::_code_offset (int) */
	__u16 blob_frame_size;   /* CodeBlob::_frame_size (int, words) */
	__u16 blob_frame_complete; /* CodeBlob::_frame_complete_offset (int16, from code begin) */
	__u16 blob_kind;         /* CodeBlob::_kind (u8) */
	__u16 nm_verified_entry; /* nmethod::_verified_entry_offset (u16, from code begin) */
	__u16 nm_deopt_handler;  /* nmethod::_deopt_handler_offset (int, from the blob) */
	__u16 nm_deopt_mh_handler; /* nmethod::_deopt_mh_handler_offset (int, from the blob) */
	__u16 nm_orig_pc;        /* nmethod::_orig_pc_offset (int): where a deoptimized frame keeps its pc, from sp */
	__u16 nm_compile_id;     /* nmethod::_compile_id (int) */
	__u16 upcall_frame_data; /* UpcallStub::_frame_data_offset (int): its frame's data, from sp */
	__u16 upcall_anchor;     /* UpcallStub::FrameData::jfa: the anchor of the Java frame that called out */
	__u8 kind_nmethod;       /* CodeBlobKind values */
	__u8 kind_adapter;
	__u8 kind_vtable;
	__u8 kind_mh_adapter;
	__u8 kind_upcall;
	__u8 _pad[5];
	__u64 call_stub_return;  /* StubRoutines::_call_stub_return_address: an entry frame from the VM */
	__u64 cont_return_pc;    /* ContinuationEntry::_return_pc: where Continuation.enterSpecial's callee returns */
	__u32 cont_entry_size;   /* sizeof(ContinuationEntry): the enterSpecial frame's saved rbp lies above it */
	__u32 jt_cont_entry;     /* JavaThread::_cont_entry: the innermost mounted continuation's entry (its sp) */
};

_Static_assert(sizeof(struct user_frame) == 16, "mirrored in Java");
_Static_assert(sizeof(struct user_stack) == 8 + 16 * USER_STACK_MAX_DEPTH, "mirrored in Java");
_Static_assert(sizeof(struct hotspot_layout) == 32 * CODE_HEAPS_MAX + 72, "written by Java");
_Static_assert(sizeof(struct exec_ranges) == 8 + 16 * EXEC_RANGES_MAX, "written by Java");
_Static_assert((EXEC_RANGES_MAX & (EXEC_RANGES_MAX - 1)) == 0, "indices are masked");

#endif
