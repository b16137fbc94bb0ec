/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which Java thread is mounted on the current OS thread: the id (Thread.threadId()) of what
 * Thread.currentThread() returns there, a virtual thread's while one is mounted on its carrier,
 * else the platform thread's own. Every record's header carries it (event_header.java_thread_id),
 * so the agent names the virtual thread an event happened on, as JFR does, not its carrier.
 *
 * HotSpot keeps that id in the JavaThread as a plain int64, JavaThread::_monitor_owner_id (the
 * owner of the monitors it locks since JDK 24), set on every mount and unmount: no oop is read,
 * so no garbage collector can move what is read here. The JavaThread is found the way
 * Thread::current() finds it: libjvm's thread-local Thread::_thr_current, through the thread's
 * TLS block (fs base -> glibc's dtv -> libjvm's block). The agent sets the offsets below
 * (io.jfrebpf.agent.jvm.MountedThreads) after checking them on a virtual thread of its own; 0
 * leaves every id unknown. On a thread that is not a JavaThread (a GC worker) the word read is
 * not an id: the agent believes it only for the OS threads it knows as Java threads.
 *
 * Four reads of user memory per event (docs/virtual-threads.md).
 */
#ifndef JFR_EBPF_MOUNTED_BPF_H
#define JFR_EBPF_MOUNTED_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* libjvm's TLS module id (0: unknown), Thread::_thr_current's offset in its block, JavaThread::_monitor_owner_id's offset */
const volatile __u64 mounted_tls_module = 0;
const volatile __u64 mounted_tls_offset = 0;
const volatile __u64 mounted_id_offset = 0;

/* The current OS thread's JavaThread (or another HotSpot Thread), or 0. */
static __always_inline __u64 mounted_current_thread(void)
{
	__u64 fsbase, dtv = 0, block = 0, thread = 0;
	if (!mounted_tls_module)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	fsbase = BPF_CORE_READ(task, thread.fsbase);
	/* glibc's tcbhead_t: the dtv pointer is its second word; a dtv entry is {block, to_free} */
	if (!fsbase || bpf_probe_read_user(&dtv, sizeof(dtv), (void *)(fsbase + 8)) || !dtv)
		return 0;
	if (bpf_probe_read_user(&block, sizeof(block), (void *)(dtv + 16 * mounted_tls_module)) || !block || block == ~0ull)
		return 0;
	if (bpf_probe_read_user(&thread, sizeof(thread), (void *)(block + mounted_tls_offset)) || (thread & 7))
		return 0;
	return thread;
}

/* The Java thread id mounted on the current OS thread, or 0 when unknown. */
static __always_inline __u64 mounted_thread_id(void)
{
	if (!mounted_id_offset)
		return 0;
	__u64 thread = mounted_current_thread();
	__s64 id = 0;
	if (!thread || bpf_probe_read_user(&id, sizeof(id), (void *)(thread + mounted_id_offset)))
		return 0;
	return id > 0 ? (__u64)id : 0;
}

#endif
