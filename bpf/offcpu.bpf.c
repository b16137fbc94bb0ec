// SPDX-License-Identifier: Apache-2.0
/*
 * offcpu: the time each of our threads spends off CPU. At sched_switch, a thread of ours that
 * leaves the CPU has its time and state kept by tid; when it comes back the stretch is measured
 * and, at or above min_duration_ns, sent with its kernel stack (offcpu.h) and its user stack.
 * Other processes' switches return after two comparisons (tp_btf: no tracepoint buffer is filled).
 *
 * The user stack is walked only for the stretches that are sent, and by the thread itself: the
 * stretch waits in `resuming` for a task work (bpf_task_work, Linux 6.18) that runs when the
 * thread next returns to user mode, where its user registers and stack are still the ones it
 * blocked with (no user code ran in between). Walking every thread's stack at every switch-out
 * cost ~2 us per switch, 0.6 s of a 9 s service loop of 275,000 switches, nearly all of them
 * for stretches far below the threshold. On older kernels, and where the verifier refuses the
 * kfunc in a tracepoint program (6.18.44: "sleepable callback in a program that is not
 * sleepable"; the agent then loads again with walk_on_resume 0, whose branch the verifier does not
 * visit), the user stack is walked at switch-out, as there is no other moment the thread's own
 * address space is current.
 *
 * A thread whose coming back the tracepoint did not show (sched_gap.bpf.h) is found leaving with
 * its stretch still open: the stretch is sent then, ending when the thread came back, with its
 * user stack walked at switch-out and no kernel stack (that is gone by then); with the walk on
 * return to user mode it has no stack at all and is only counted.
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
/* 1: user stacks are walked by task work on the thread's return to user mode (the kernel has it) */
const volatile __u32 walk_on_resume = 0;

/*
 * Linux 6.18's kfunc, by the name it has there (later kernels keep it beside the name without
 * _impl). Weak: on a kernel without it walk_on_resume stays 0 and the verifier drops the call.
 */
extern int bpf_task_work_schedule_resume_impl(struct task_struct *task, struct bpf_task_work *tw, void *map__map,
					      int (*callback)(struct bpf_map *map, void *key, void *value),
					      void *aux__prog) __ksym __weak;

#define PF_EXITING 0x4 /* include/linux/sched.h */

#define TASK_DEAD 0x80 /* include/linux/sched.h: a thread's last switch-out */

struct blocked {
	__u64 ns;
	__u64 user_stack;
	__u64 runtime; /* se.sum_exec_runtime when it left */
	__u64 started; /* task_started() */
	__u64 java_thread_id; /* mounted when it left (mounted.bpf.h) */
	__u32 state;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct blocked);
} blocked SEC(".maps");

/*
 * A stretch long enough to send, waiting for its thread's return to user mode (walk_on_resume),
 * by tid. pending: its task work is scheduled and has not run yet; an entry stays when it has
 * run (deleting it would cancel a pending work) and is used again by the thread's next stretch.
 */
struct resuming {
	struct offcpu_record record; /* all but the user stack and the mounted thread */
	__u32 pending;
	__u32 _pad;
	struct bpf_task_work work;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct resuming);
} resuming SEC(".maps");

/* what a new entry of resuming starts from: zeros (too big for the BPF stack; bytes, since a
 * task work may only be in a map's value) */
static const char no_resuming[sizeof(struct resuming)] = {};

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

/*
 * The task work: the thread that came back from a stretch of r is returning to user mode, its
 * user registers and stack still the ones it blocked with. Sent from here with its user stack.
 */
static int resumed(struct bpf_map *map, void *key, void *value)
{
	struct resuming *r = value;
	struct task_struct *t = bpf_get_current_task_btf();
	struct offcpu_record *out = bpf_ringbuf_reserve(&events, sizeof(*out), 0);
	if (!out) {
		r->pending = 0;
		count_lost();
		return 0;
	}
	if (bpf_probe_read_kernel(out, sizeof(*out), &r->record)) {
		r->pending = 0;
		bpf_ringbuf_discard(out, 0);
		count_lost();
		return 0;
	}
	/* in exit, the address space is gone: the stretch goes without its user stack */
	bool own = BPF_CORE_READ(t, pid) == *(__u32 *)key && !(BPF_CORE_READ(t, flags) & PF_EXITING);
	out->header.user_stack = own ? current_user_stack(STACK_SLOT_RESUME) : NO_USER_STACK;
	out->header.java_thread_id = own ? mounted_thread_id() : 0;
	r->pending = 0;
	bpf_ringbuf_submit(out, ringbuf_wakeup_flags(&events));
	return 0;
}

/*
 * t comes back from a stretch long enough to send: its kernel stack now (t has not run yet), its
 * user stack when it returns to user mode (resumed). If its last stretch still waits for that
 * (it blocked twice in one system call), or no task work can be had, it goes now without one.
 */
static __always_inline void send_on_resume(struct task_struct *t, __u32 tid, const struct blocked *b, __u64 end)
{
	struct resuming *r = bpf_map_lookup_elem(&resuming, &tid);
	if (!r) {
		bpf_map_update_elem(&resuming, &tid, &no_resuming, BPF_NOEXIST);
		r = bpf_map_lookup_elem(&resuming, &tid);
	}
	if (!r || r->pending) {
		send(t, b, end, true);
		return;
	}
	fill_task_header(&r->record.header, t, b->ns, end, NO_USER_STACK, 0);
	r->record.state = b->state;
	long bytes = bpf_get_task_stack(t, r->record.kernel_ips, sizeof(r->record.kernel_ips), 0);
	r->record.kernel_depth = bytes > 0 ? (__u32)((__u64)bytes / 8) : 0;
	r->pending = 1;
	if (bpf_task_work_schedule_resume_impl(t, &r->work, &resuming, resumed, NULL)) {
		r->pending = 0;
		send(t, b, end, true);
	}
}

/*
 * prev leaves while its last stretch is still open: it came back without this program seeing it.
 * It has run for (runtime now - runtime then) since, so it came back that long before now.
 */
static __always_inline void recover(struct task_struct *prev, const struct blocked *old, const struct blocked *b)
{
	if (old->started != b->started)
		return; /* an entry left by an earlier thread with this tid */
	/* 0: it ran about all the time since it left (the two clocks disagree by a little) */
	__u64 back = came_back_at(b->ns, b->runtime, old->ns, old->runtime);
	if (back && back - old->ns >= min_duration_ns) {
		/* with walk_on_resume no stack was taken for it: counted, not sent as a stackless event */
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

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 now = 0;
	if (is_target_task(prev) && !hotspot_own_thread()) {
		/* prev is still the current task: its registers and kernel stack are the ones that block */
		now = bpf_ktime_get_ns();
		__u32 tid = BPF_CORE_READ(prev, pid);
		/* the stacks later, and only if the stretch is long enough: the kernel stack when it comes
		 * back (unwinding it here cost 3.6 us per switch-out on our VM, for every short block
		 * too), the user stack when it returns to user mode; without task work, the user stack
		 * now (the walk needs the thread's own address space, which is current) */
		struct blocked b = {
			.ns = now,
			.user_stack = walk_on_resume ? NO_USER_STACK : current_user_stack(STACK_SLOT_SCHED),
			.runtime = task_runtime(prev),
			.started = task_started(prev),
			.java_thread_id = walk_on_resume ? 0 : mounted_thread_id(),
			.state = preempt ? 0 : get_task_state(prev),
		};
		if (b.state & TASK_DEAD) {
			/* it will not come back */
			bpf_map_delete_elem(&blocked, &tid);
			if (walk_on_resume)
				bpf_map_delete_elem(&resuming, &tid);
		} else if (bpf_map_update_elem(&blocked, &tid, &b, BPF_NOEXIST)) {
			struct blocked *old = bpf_map_lookup_elem(&blocked, &tid);
			if (old)
				recover(prev, old, &b);
			if (bpf_map_update_elem(&blocked, &tid, &b, BPF_ANY))
				count_lost();
		}
	}
	if (!is_target_task(next))
		return 0;
	__u32 tid = BPF_CORE_READ(next, pid);
	struct blocked *b = bpf_map_lookup_elem(&blocked, &tid);
	if (!b)
		return 0;
	if (!now)
		now = bpf_ktime_get_ns();
	__u64 start = b->ns;
	if (now - start >= min_duration_ns) {
		if (walk_on_resume)
			send_on_resume(next, tid, b, now);
		else
			send(next, b, now, true);
	}
	bpf_map_delete_elem(&blocked, &tid);
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
