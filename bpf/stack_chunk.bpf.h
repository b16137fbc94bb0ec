/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The frames of a mounted virtual thread that are still in its stack chunks, on the Java heap
 * (the walk of bpf/stack.bpf.h enters them at the continuation's return barrier).
 *
 * A continuation mounted again is thawed lazily: HotSpot copies its top frames back onto the
 * carrier's stack, makes the last of them return into StubRoutines::cont_returnBarrier, and leaves
 * the frames below in its tail StackChunk (jdk.internal.vm.StackChunk, an object on the heap),
 * laid out as they were on the stack. What is read here, as HotSpot's StackChunkFrameStream walks
 * a chunk (stackChunkOop.inline.hpp, stackChunkFrameStream_x86.inline.hpp):
 *  - the mounted continuation: ContinuationEntry::_cont, in Continuation.enterSpecial's frame
 *    (JavaThread::_cont_entry); a frame's oop, so a plain address under every collector (ZGC
 *    keeps frame oops uncoloured); not in VMStructs, it is the word of the entry that its tail
 *    chunk leads back to (chunk_enter);
 *  - its chunks: Continuation.tail, then StackChunk.parent, heap fields (a narrow oop with
 *    compressed oops, a coloured pointer under ZGC, else an address: chunk_oop), each checked to
 *    belong to that continuation (StackChunk.cont leads back to it: an object moved or half
 *    copied by a collector, or a wrong offset, fails it);
 *  - a chunk's frames: from start + sp (words) to start + bottom, the pc of each at the word
 *    below its sp; a compiled frame (or stub) steps by its code blob's frame size, an
 *    interpreted frame by its frame pointer, which the chunk keeps relative: in the word two
 *    below its sp, as an offset in words from that word, and so are its sender sp (fp[-1]) and
 *    locals (fp[-7]). Its Method* (fp[-3]) and bcp (fp[-8]) are kept as they are.
 * Every address stays inside the chunk and every step goes up; anything else ends the chunk's
 * frames, and the walk goes on at enterSpecial with the gap marked (USER_STACK_CONTINUATION).
 * The agent sets the layout from libjvm's own statics (io.jfrebpf.agent.jvm.StackChunks); every
 * chunk is checked as it is read, as above; chunk_oops 0 leaves the chunks unread.
 */
#ifndef JFR_EBPF_STACK_CHUNK_BPF_H
#define JFR_EBPF_STACK_CHUNK_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* chunk_oops: how the heap keeps an oop field */
#define CHUNK_OOPS_WIDE 1   /* a 64-bit address (-XX:-UseCompressedOops) */
#define CHUNK_OOPS_NARROW 2 /* 32 bits: chunk_narrow_base + (narrow << chunk_narrow_shift) */
#define CHUNK_OOPS_ZGC 3    /* ZGC's coloured pointer: the address shifted left past its colour bits */

/* Chunks followed from a continuation's tail (a freeze that does not fit its tail adds a chunk). */
#define CHUNKS_MAX 8
/* A chunk's stack spans at most this many words (16 MiB; a thread's stack is smaller). */
#define CHUNK_WORDS_MAX (2u << 20)
/* A frame in a chunk spans at most this much, as on a stack (MAX_JAVA_FRAME of stack.bpf.h). */
#define CHUNK_FRAME_MAX (1u << 20)

const volatile __u32 chunk_oops = 0;
const volatile __u64 chunk_narrow_base = 0;
const volatile __u32 chunk_narrow_shift = 0;
/*
 * sizeof(ContinuationEntry), whose word _cont is (not in VMStructs) is found here: the one whose
 * tail chunk leads back to it; Continuation.tail; StackChunk's parent, size, sp, bottom, cont;
 * InstanceStackChunkKlass::_offset_of_stack
 */
const volatile __u32 chunk_entry_size = 0;
const volatile __u32 chunk_cont_tail = 0;
const volatile __u32 chunk_parent = 0;
const volatile __u32 chunk_size = 0;
const volatile __u32 chunk_sp = 0;
const volatile __u32 chunk_bottom = 0;
const volatile __u32 chunk_cont = 0;
const volatile __u32 chunk_stack = 0;

/* Where a walk is in the chunks of the mounted continuation. */
struct chunk_cursor {
	__u64 chunk;  /* the StackChunk whose frames are walked; 0: none */
	__u64 cont;   /* the Continuation its chunks belong to */
	__u64 entry;  /* its ContinuationEntry (enterSpecial's frame), where the walk goes on after its chunks */
	__u64 end;    /* the chunk's bottom: the sp of its last frame's caller */
	__u64 sp;     /* of the frame to record next: the word two below it holds an interpreted frame's fp */
	__u64 usp;    /* its unextended sp: a compiled frame steps by its size from here */
	__u64 pc;     /* its pc */
	__u64 method; /* an interpreted frame's Method* and bcp (chunk_interpreted) */
	__u64 bcp;
	__u64 barrier; /* the return barrier's pc while the chunks are still to be opened (chunk_enter); else 0 */
	__u32 hops;   /* chunks entered */
	__u32 done;   /* the frame recorded last was the chunk's bottom one */
	__u64 words[10];
};

/* Whether a is a plausible object address: user space, 8-byte aligned. */
static __always_inline bool chunk_address(__u64 a)
{
	return a >= 4096 && a < (1ull << 56) && !(a & 7);
}

/* Returned by chunk_oop for a field that is not readable (or no object address): never an object's. */
#define CHUNK_OOP_BAD 1

/*
 * The object an oop field at p refers to: 0 when null, CHUNK_OOP_BAD when not readable as the heap
 * keeps it. Read into *w (the cursor's scratch: the programs' BPF stack is nearly full).
 */
static __always_inline __u64 chunk_oop(__u64 p, __u64 *w)
{
	__u64 v;
	*w = 0;
	if (bpf_probe_read_user(w, chunk_oops == CHUNK_OOPS_NARROW ? 4 : 8, (void *)p))
		return CHUNK_OOP_BAD;
	v = *w;
	if (!v)
		return 0;
	if (chunk_oops == CHUNK_OOPS_NARROW) {
		v = chunk_narrow_base + (v << (chunk_narrow_shift & 7));
	} else if (chunk_oops == CHUNK_OOPS_ZGC) {
		/* ZPointer::uncolor: the one remapped bit of bits 12-15 says the shift (13-16) */
		__u64 remap = (v >> 12) & 0xf;
		if (remap != 1 && remap != 2 && remap != 4 && remap != 8)
			return CHUNK_OOP_BAD;
		v >>= remap == 1 ? 13 : remap == 2 ? 14 : remap == 4 ? 15 : 16;
		if (!v)
			return 0; /* a coloured null */
	}
	return chunk_address(v) ? v : CHUNK_OOP_BAD;
}

/*
 * Makes the first chunk from chunk on (following parents) that holds frames the cursor's: its
 * top frame is the next to record. 1 if there is one, 0 if there is none, -1 if a chunk does not
 * check out (or there are more than CHUNKS_MAX).
 */
__attribute__((noinline)) int chunk_open(struct chunk_cursor *c, __u64 chunk)
{
	if (!c)
		return -1;
	c->chunk = 0;
	__u64 *w = c->words;
	for (int i = 0; i < CHUNKS_MAX; i++) {
		if (!chunk)
			return 0;
		if (chunk == CHUNK_OOP_BAD || c->hops >= CHUNKS_MAX)
			return -1;
		c->hops++;
		if (chunk_oop(chunk + chunk_cont, &w[0]) != c->cont)
			return -1;
		/* size, sp, bottom (ints, words) into w[1..3] */
		w[1] = w[2] = w[3] = 0;
		if (bpf_probe_read_user(&w[1], 4, (void *)(chunk + chunk_size)) || bpf_probe_read_user(&w[2], 4, (void *)(chunk + chunk_sp)) ||
		    bpf_probe_read_user(&w[3], 4, (void *)(chunk + chunk_bottom)))
			return -1;
		__u64 size = w[1], sp = w[2], bottom = w[3];
		if (size > CHUNK_WORDS_MAX || bottom > size || sp > size)
			return -1;
		if (sp < bottom) {
			__u64 start = chunk + chunk_stack;
			if (bpf_probe_read_user(&w[4], 8, (void *)(start + 8 * sp - 8)))
				return -1;
			c->chunk = chunk;
			c->end = start + 8 * bottom;
			c->sp = c->usp = start + 8 * sp;
			c->pc = w[4];
			c->done = 0;
			return 1;
		}
		chunk = chunk_oop(chunk + chunk_parent, &w[0]); /* empty: all its frames were thawed */
	}
	return -1;
}

/* Words of a ContinuationEntry looked at for its continuation. */
#define ENTRY_WORDS_MAX 16

/*
 * Opens the chunks of the continuation mounted at entry (its ContinuationEntry, whose return
 * barrier the walk reached): 1 when the walk goes on at the top frame of its tail's frames (as
 * chunk_open otherwise). The continuation is the word of the entry whose tail chunk's cont leads
 * back to it (ContinuationEntry::_cont: no other word of the entry does).
 */
__attribute__((noinline)) int chunk_enter(struct chunk_cursor *c, __u64 entry)
{
	if (!c || !chunk_oops || !chunk_entry_size)
		return -1;
	c->chunk = 0;
	c->hops = 0;
	c->entry = entry;
	__u64 *w = c->words;
	for (int i = 0; i < ENTRY_WORDS_MAX; i++) {
		if (8 * i + 8 > chunk_entry_size)
			return -1;
		if (bpf_probe_read_user(&w[1], 8, (void *)(entry + 8 * i)) || !chunk_address(w[1]))
			continue;
		__u64 cont = w[1], tail = chunk_oop(cont + chunk_cont_tail, &w[0]);
		if (tail == 0 || tail == CHUNK_OOP_BAD || chunk_oop(tail + chunk_cont, &w[0]) != cont)
			continue;
		c->cont = cont;
		return chunk_open(c, tail);
	}
	return -1;
}

/* The chunk after the one walked, if it holds frames (as chunk_open). */
__attribute__((noinline)) int chunk_next(struct chunk_cursor *c)
{
	if (!c || !c->chunk)
		return -1;
	return chunk_open(c, chunk_oop(c->chunk + chunk_parent, &c->words[0]));
}

/*
 * The interpreted frame at the cursor: its Method* and bcp into c->method and c->bcp, and the
 * cursor to its caller (c->done at the chunk's bottom frame). 1: the frame does not check out.
 */
__attribute__((noinline)) int chunk_interpreted(struct chunk_cursor *c)
{
	if (!c)
		return 1;
	__u64 *words = c->words;
	__u64 slot = c->sp - 16, sp = c->sp, end = c->end;
	if (bpf_probe_read_user(&words[0], 8, (void *)slot))
		return 1;
	__s64 rel = (__s64)words[0];
	__u64 fp = slot + 8 * rel;
	if (rel <= 0 || rel > CHUNK_FRAME_MAX / 8 || fp <= sp || fp + 16 > end)
		return 1;
	/* words[0] = fp[-8] (bcp), [1] fp[-7] (locals, relative), [5] fp[-3] (Method*), [7] fp[-1] (sender sp, relative), [9] fp[1] */
	if (bpf_probe_read_user(words, 10 * sizeof(__u64), (void *)(fp - 64)))
		return 1;
	__s64 locals = (__s64)words[1], sender = (__s64)words[7];
	__u64 method = words[5];
	if (!method || (method & 7) || locals <= 0 || locals > CHUNK_FRAME_MAX / 8)
		return 1;
	c->method = method;
	c->bcp = words[0];
	/* StackChunkFrameStream::next_for_interpreter_frame: its locals reach the bottom, it is the chunk's last */
	if (fp + 8 * locals + 8 >= end) {
		c->done = 1;
		return 0;
	}
	if (sender < 2 || sender > CHUNK_FRAME_MAX / 8 || fp + 8 * sender > end)
		return 1;
	c->usp = fp + 8 * sender;
	c->sp = fp + 16;
	c->pc = words[9];
	return 0;
}

/*
 * The compiled frame (or stub) at the cursor, frame_size bytes from its unextended sp: the cursor
 * to its caller (c->done at the chunk's bottom frame). 1: it does not check out.
 */
__attribute__((noinline)) int chunk_sized(struct chunk_cursor *c, __u32 frame_size)
{
	if (!c)
		return 1;
	__u64 next = c->usp + frame_size;
	if (frame_size < 16 || frame_size > CHUNK_FRAME_MAX)
		return 1;
	/* StackChunkFrameStream::next: within the bottom frame's metadata words, the chunk ends */
	if (next + 16 >= c->end) {
		c->done = 1;
		return 0;
	}
	if (bpf_probe_read_user(&c->pc, sizeof(c->pc), (void *)(next - 8)))
		return 1;
	c->sp = c->usp = next;
	return 0;
}

#endif
