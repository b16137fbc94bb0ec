// SPDX-License-Identifier: Apache-2.0
/*
 * offcpu: the time each of our threads spends off CPU. At sched_switch, a thread of ours that
 * leaves the CPU has its time and state kept by tid; when it comes back the stretch is measured
 * and, at or above min_duration_ns, sent with its kernel stack (offcpu.h) and its user stack.
 * Other processes' switches return after two comparisons (tp_btf: no tracepoint buffer is filled).
 *
 * The user stack of a stretch is walked only for the stretches that are sent, and by the thread
 * itself, at its first return to user mode after it came back (walk_on_resume), where its user
 * registers and stack are still the ones it blocked with: no user code ran in between. That
 * moment is the rseq_update tracepoint. A thread that registered restartable sequences (glibc
 * 2.35 and later does for every thread) has the kernel refresh its rseq area on the way back to
 * user mode after every context switch (rseq_preempt at the switch-out sets TIF_NOTIFY_RESUME;
 * exit_to_user_mode handles it before any user instruction), and rseq_update fires there.
 * Walking every thread's stack at every switch-out instead cost ~1.7 us per switch, 0.46 s of a
 * 9 s service loop of 284,000 switches, nearly all of them for stretches far below the threshold.
 *
 * Where that moment cannot be had the user stack is walked at switch-out, the one other moment the
 * thread's own address space is current: on kernels without the tracepoint (walk_on_resume 0),
 * for a thread without an rseq area (task_struct.rseq NULL: an older glibc, or
 * glibc.pthread.rseq=0), and on a CPU where threads were seen leaving again in user-mode state
 * other than they blocked with, without rseq_update having fired, more than a few times
 * (resume_missed counts them; such a stretch goes without a user stack).
 *
 * A thread may leave again before it returns to user mode (it blocked twice in one system call):
 * its user registers are still the ones it blocked with, so its stack is walked then, by itself,
 * and serves the waiting stretch and the new one.
 *
 * A thread whose coming back the tracepoint did not show (sched_gap.bpf.h) is found leaving with
 * its stretch still open: the stretch is sent then, ending when the thread came back, with the
 * user stack walked at its first return to user mode if the stretch was long enough by then (or
 * at switch-out), and no kernel stack (that is gone by then).
 *
 * A virtual thread that parks unmounts: its carrier goes on with other work, and the wait is no
 * stretch of any OS thread. Three uprobes on libjvm see it (attached only when the agent finds the
 * functions in libjvm's .symtab, one uprobe_multi link each over every GC's variant):
 * freeze_internal, where the continuation of the mounted virtual thread is frozen (its time and
 * id kept, nothing walked), its return (freeze_result: unmounted, or pinned and staying on the
 * carrier: a pinned_record, with the stack walked there, still on the carrier), and thaw at the
 * top (thaw_kind 0: the continuation is mounted again, the virtual thread's id already the
 * carrier's mounted one), which ends the wait. Only a wait at or above min_duration_ns has its
 * stack walked, there: in the stack chunk its frames were frozen into, which thaw has not touched
 * yet (frozen_user_stack). Where the agent could not check the chunks' layout (chunk_oops 0) the
 * stack is walked at every freeze instead, on the carrier. Thaws at a return barrier (the lazy
 * copy of further frames) return after one comparison.
 */
#include "common.bpf.h"
#include "core_fixes.bpf.h"
#include "stack.bpf.h"
#include "offcpu.h"
#include "sched_gap.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 min_duration_ns = 1000000;
/* 1: user stacks are walked at the thread's return to user mode (the rseq_update program is attached) */
const volatile __u32 walk_on_resume = 0;

/*
 * Threads seen back in user mode without rseq_update having fired: their stretch went without a
 * user stack. Past RESUME_MISSES_TOLERATED on a CPU, switch-outs there walk at once.
 */
PERCPU_COUNTER(resume_missed);
#define RESUME_MISSES_TOLERATED 16

static __always_inline bool resume_reliable(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&resume_missed, &zero);
	return n && *n < RESUME_MISSES_TOLERATED;
}

#define TASK_DEAD 0x80 /* include/linux/sched.h: a thread's last switch-out */

/* Where a thread's last stretch is (struct blocked.phase). */
#define PHASE_NONE 0     /* none open: the thread runs */
#define PHASE_WALKED 1   /* left; its user stack was walked then */
#define PHASE_DEFERRED 2 /* left; its user stack is walked when it returns to user mode */
#define PHASE_BACK 3     /* came back from a stretch long enough to send, which waits in `resuming` for its user stack */
#define PHASE_RETURNED 4 /* returned to user mode while its coming back was not seen; user_stack set if it was long enough then */

struct blocked {
	__u64 ns;
	__u64 user_stack;
	__u64 runtime; /* se.sum_exec_runtime when it left */
	__u64 java_thread_id; /* mounted when it left (mounted.bpf.h) */
	__u64 user_ip; /* its user registers when it left (PHASE_DEFERRED): the same until it returns to user mode */
	__u64 user_sp;
	__u32 state;
	__u32 phase;
};

/*
 * Each thread's last stretch, in the thread itself (task local storage: no hashing, no LRU, gone
 * with the thread; a hash map's update and delete at every switch cost ~0.4 us more).
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct blocked);
} blocked SEC(".maps");

/*
 * A stretch long enough to send, waiting for its thread's return to user mode (PHASE_BACK), by
 * tid: all of the record but the user stack and the mounted thread. Entries are used again by
 * the thread's next stretch.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct offcpu_record);
} resuming SEC(".maps");

/* what a new entry of resuming starts from (too big for the BPF stack) */
static const struct offcpu_record no_record = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 512 * 1024);
} events SEC(".maps");

static __always_inline void send(struct task_struct *t, const struct blocked *b, __u64 end, bool kernel_stack)
{
	struct offcpu_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost();
		return;
	}
	fill_task_header(&r->header, t, b->ns, end, b->user_stack, b->java_thread_id);
	r->state = b->state;
	r->kernel_depth = 0;
	if (kernel_stack) {
		/* t has not run yet: its kernel stack is still the one it blocked with */
		long bytes = bpf_get_task_stack(t, r->kernel_ips, sizeof(r->kernel_ips), 0);
		r->kernel_depth = bytes > 0 ? (__u32)((__u64)bytes / 8) : 0;
	}
	bpf_ringbuf_submit(r, ringbuf_wakeup_flags(&events));
}

/* Sends the stretch waiting in `resuming` for tid with this user stack (NO_USER_STACK: none to be had). */
static __always_inline void send_resumed(__u32 tid, __u64 user_stack, __u64 java_thread_id)
{
	struct offcpu_record *r = bpf_map_lookup_elem(&resuming, &tid);
	if (!r) {
		count_lost(); /* the LRU map let it go */
		return;
	}
	struct offcpu_record *out = bpf_ringbuf_reserve(&events, sizeof(*out), 0);
	if (!out) {
		count_lost();
		return;
	}
	__builtin_memcpy(out, r, sizeof(*out));
	out->header.user_stack = user_stack;
	out->header.java_thread_id = java_thread_id;
	bpf_ringbuf_submit(out, ringbuf_wakeup_flags(&events));
}

/*
 * t comes back from a stretch long enough to send whose user stack is to be walked when it
 * returns to user mode: its kernel stack now (t has not run yet), the rest of the record waits in
 * `resuming`. Without room there it goes now, without a user stack.
 */
static __always_inline void defer(struct task_struct *t, __u32 tid, struct blocked *b, __u64 end)
{
	struct offcpu_record *r = bpf_map_lookup_elem(&resuming, &tid);
	if (!r) {
		bpf_map_update_elem(&resuming, &tid, &no_record, BPF_NOEXIST);
		r = bpf_map_lookup_elem(&resuming, &tid);
	}
	if (!r) {
		send(t, b, end, true);
		return;
	}
	fill_task_header(&r->header, t, b->ns, end, NO_USER_STACK, 0);
	r->state = b->state;
	long bytes = bpf_get_task_stack(t, r->kernel_ips, sizeof(r->kernel_ips), 0);
	r->kernel_depth = bytes > 0 ? (__u32)((__u64)bytes / 8) : 0;
	b->phase = PHASE_BACK;
}

/*
 * prev leaves while its last stretch is still open: it came back without this program seeing it.
 * It has run for (runtime now - runtime then) since, so it came back that long before now.
 */
static __always_inline void recover(struct task_struct *prev, const struct blocked *old, const struct blocked *b)
{
	/* 0: it ran about all the time since it left (the two clocks disagree by a little) */
	__u64 back = came_back_at(b->ns, b->runtime, old->ns, old->runtime);
	if (back && back - old->ns >= min_duration_ns) {
		/* no user stack was had for it: counted, not sent as a stackless event */
		if (old->user_stack != NO_USER_STACK)
			send(prev, old, back, false);
		count_recovered();
	}
}

/*
 * HotSpot's own threads, by the names it gives them (os::set_native_thread_name; comm keeps 15
 * bytes): compilers, GC workers, the VM thread and its periodic tasks. They block to wait for
 * work, thousands of times in an idle JVM; their stretches are not where an application waits
 * (the rules leave them out) and each cost a user-stack walk here and a symbolized stack later.
 * Their CPU time stays in ebpf.CPUSample.
 */
#define OWN_THREAD_NAMES 13
static const char own_thread_names[OWN_THREAD_NAMES][16] = {
	"C1 CompilerThre", "C2 CompilerThre", "VM Thread", "VM Periodic Tas", "GC Thread#", "G1 ",
	"Service Thread", "Monitor Deflati", "ZDirector", "ZDriver", "ZWorker", "ZStat", "Shenandoah",
};

static __always_inline bool starts_with(const char *s, const char *prefix)
{
	for (int i = 0; i < 16; i++) {
		if (prefix[i] == 0)
			return true;
		if (s[i] != prefix[i])
			return false;
	}
	return true;
}

/* Whether the current task is one of HotSpot's own threads (see own_thread_names). */
static __always_inline bool hotspot_own_thread(void)
{
	char comm[16];
	if (bpf_get_current_comm(comm, sizeof(comm)))
		return false;
	for (int n = 0; n < OWN_THREAD_NAMES; n++) {
		if (starts_with(comm, own_thread_names[n]))
			return true;
	}
	return false;
}

/*
 * prev, the current task, leaves while its last stretch is still open: one that waits for its user
 * stack (PHASE_BACK), or one whose coming back was not seen. Its user registers are the ones of
 * that stretch exactly when it has not returned to user mode since: its stack is walked now, for
 * the old stretch and for b, the new one. Otherwise rseq_update did not fire for it: the old
 * stretch goes without a user stack (resume_missed).
 */
static __always_inline void leave_again(struct task_struct *prev, __u32 tid, struct blocked *old, struct blocked *b)
{
	if (old->phase == PHASE_BACK || old->phase == PHASE_DEFERRED) {
		if (old->user_ip == b->user_ip && old->user_sp == b->user_sp) {
			b->user_stack = current_user_stack(STACK_SLOT_SCHED);
			b->java_thread_id = mounted_thread_id();
			b->phase = PHASE_WALKED;
			old->user_stack = b->user_stack;
			old->java_thread_id = b->java_thread_id;
		} else {
			count_in(&resume_missed);
		}
		if (old->phase == PHASE_BACK) {
			send_resumed(tid, old->user_stack, old->java_thread_id);
			return;
		}
	}
	recover(prev, old, b);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 now = 0;
	if (is_target_task(prev) && !hotspot_own_thread()) {
		/* prev is still the current task: its registers and kernel stack are the ones that block */
		struct blocked *old = bpf_task_storage_get(&blocked, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!old) {
			count_lost();
			goto next;
		}
		now = bpf_ktime_get_ns();
		__u32 tid = prev->pid;
		/* the stacks later, and only if the stretch is long enough: the kernel stack when it comes
		 * back (unwinding it here cost 3.6 us per switch-out on our VM, for every short block
		 * too), the user stack when it returns to user mode */
		bool deferred = walk_on_resume && task_has_rseq(prev) && resume_reliable();
		struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(prev);
		struct blocked b = {
			.ns = now,
			.user_stack = deferred ? NO_USER_STACK : current_user_stack(STACK_SLOT_SCHED),
			.runtime = task_runtime(prev),
			.java_thread_id = deferred ? 0 : mounted_thread_id(),
			.user_ip = walk_on_resume && regs ? regs->ip : 0,
			.user_sp = walk_on_resume && regs ? regs->sp : 0,
			.state = preempt ? 0 : get_task_state(prev),
			.phase = deferred ? PHASE_DEFERRED : PHASE_WALKED,
		};
		if (old->phase != PHASE_NONE) {
			if (b.state & TASK_DEAD) {
				/* its address space is gone: a waiting stretch goes without a user stack */
				if (old->phase == PHASE_BACK)
					send_resumed(tid, NO_USER_STACK, 0);
			} else {
				leave_again(prev, tid, old, &b);
			}
		}
		if (b.state & TASK_DEAD)
			b.phase = PHASE_NONE; /* it will not come back */
		*old = b;
	}
next:
	if (!is_target_task(next))
		return 0;
	struct blocked *b = bpf_task_storage_get(&blocked, next, 0, 0);
	if (!b || (b->phase != PHASE_WALKED && b->phase != PHASE_DEFERRED))
		return 0;
	if (!now)
		now = bpf_ktime_get_ns();
	if (now - b->ns >= min_duration_ns) {
		if (b->phase == PHASE_DEFERRED) {
			defer(next, next->pid, b, now); /* PHASE_BACK, or sent without a user stack */
			if (b->phase == PHASE_BACK)
				return 0;
		} else {
			send(next, b, now, true);
		}
	}
	b->phase = PHASE_NONE;
	return 0;
}

/*
 * A thread of ours returns to user mode after a context switch (rseq_update: see the top), its
 * user registers and stack still the ones it blocked with. A stretch that waits for its user
 * stack is sent from here with it; a stretch whose coming back sched_switch did not show gets
 * its user stack here if it is long enough by now, for recover() to send.
 */
SEC("tp_btf/rseq_update")
int BPF_PROG(rseq_update, struct task_struct *t)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!is_target(pid_tgid))
		return 0;
	struct blocked *b = bpf_task_storage_get(&blocked, bpf_get_current_task_btf(), 0, 0);
	if (!b)
		return 0;
	if (b->phase == PHASE_BACK) {
		send_resumed((__u32)pid_tgid, current_user_stack(STACK_SLOT_RESUME), mounted_thread_id());
		b->phase = PHASE_NONE;
	} else if (b->phase == PHASE_DEFERRED) {
		if (bpf_ktime_get_ns() - b->ns >= min_duration_ns) {
			b->user_stack = current_user_stack(STACK_SLOT_RESUME);
			b->java_thread_id = mounted_thread_id();
		}
		b->phase = PHASE_RETURNED;
	}
	return 0;
}

/* A freeze under way, by tid: from freeze_internal's entry to its return. */
struct freezing {
	__u64 ns;
	__u64 user_stack; /* NO_USER_STACK: walked later (see unmounted) */
	__u64 java_thread_id;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct freezing);
} freezing SEC(".maps");

/*
 * A virtual thread unmounted, by its Java id: when it froze, and its stack there only where the
 * agent could not check its stack chunks (chunk_oops 0): else walked at the thaw, in the chunk.
 */
struct unmounted {
	__u64 ns;
	__u64 user_stack;
};

/* LRU: past this many parked at once, the longest parked are forgotten (their wait is not sent) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, __u64);
	__type(value, struct unmounted);
} unmounted SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} pinned SEC(".maps");

#define THAW_TOP 0 /* Continuation::thaw_kind: mounting a continuation, not a return barrier */

SEC("uprobe")
int BPF_KPROBE(freeze_enter)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!is_target(pid_tgid))
		return 0;
	__u64 id = mounted_thread_id();
	if (!id)
		return 0;
	__u32 tid = (__u32)pid_tgid;
	/* the uprobe's registers are the function's entry state: its caller is at the stack pointer */
	struct freezing f = {
		.ns = bpf_ktime_get_ns(),
		.user_stack = chunk_oops ? NO_USER_STACK
					 : walk_user_stack(PT_REGS_IP(ctx), PT_REGS_SP(ctx), PT_REGS_FP(ctx), true, STACK_SLOT_TASK),
		.java_thread_id = id,
	};
	if (bpf_map_update_elem(&freezing, &tid, &f, BPF_ANY))
		count_lost();
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(freeze_exit, long rax)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!is_target(pid_tgid))
		return 0;
	__u32 tid = (__u32)pid_tgid;
	struct freezing *f = bpf_map_lookup_elem(&freezing, &tid);
	if (!f)
		return 0;
	__u32 result = (__u32)rax; /* an enum: the upper half of rax is not part of it */
	if (result == FREEZE_OK || result == FREEZE_OK_BOTTOM) {
		struct unmounted u = {.ns = f->ns, .user_stack = f->user_stack};
		if (bpf_map_update_elem(&unmounted, &f->java_thread_id, &u, BPF_ANY))
			count_lost();
	} else if (result != FREEZE_NOT_MOUNTED) {
		/* nothing was frozen: the stack is where it was, under the caller freeze_internal returned to */
		__u64 stack = f->user_stack != NO_USER_STACK ? f->user_stack
							     : walk_user_stack(PT_REGS_IP(ctx), PT_REGS_SP(ctx), PT_REGS_FP(ctx), false, STACK_SLOT_TASK);
		struct pinned_record *r = bpf_ringbuf_reserve(&pinned, sizeof(*r), 0);
		if (r) {
			fill_header(&r->header, pid_tgid, f->ns, f->ns);
			r->header.user_stack = stack;
			r->header.java_thread_id = f->java_thread_id;
			r->reason = result;
			r->_pad = 0;
			bpf_ringbuf_submit(r, ringbuf_wakeup_flags(&pinned));
		} else {
			count_lost();
		}
	}
	bpf_map_delete_elem(&freezing, &tid);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(thaw_enter, void *thread, int kind)
{
	if (kind != THAW_TOP)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!is_target(pid_tgid))
		return 0;
	__u64 id = mounted_thread_id();
	if (!id)
		return 0;
	struct unmounted *u = bpf_map_lookup_elem(&unmounted, &id);
	if (!u)
		return 0;
	__u64 now = bpf_ktime_get_ns(), since = u->ns, stack = u->user_stack;
	if (now - since >= min_duration_ns) {
		/* where it parked: its frames are all still in its stack chunk */
		if (stack == NO_USER_STACK)
			stack = frozen_user_stack(STACK_SLOT_TASK);
		struct offcpu_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
		if (r) {
			fill_header(&r->header, pid_tgid, since, now);
			r->header.user_stack = stack;
			r->header.java_thread_id = id;
			r->state = OFFCPU_UNMOUNTED;
			r->kernel_depth = 0;
			bpf_ringbuf_submit(r, ringbuf_wakeup_flags(&events));
		} else {
			count_lost();
		}
	}
	bpf_map_delete_elem(&unmounted, &id);
	return 0;
}

/* the records Java reads, for their generated layout */
BTF_EXPORT(offcpu_record)
BTF_EXPORT(pinned_record)
