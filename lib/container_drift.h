/*
 * container_drift: compare a live container with the create body kom
 * would send for its deployment (container.h), to tell a container
 * changed, stopped or removed by hand from one that is as deployed.
 */
#ifndef KOM_CONTAINER_DRIFT_H
#define KOM_CONTAINER_DRIFT_H

#include <stddef.h>
#include <jansson.h>

enum container_drift {
	CONTAINER_DRIFT_NONE = 0,	/* matches and runs */
	CONTAINER_DRIFT_CHANGED,	/* hash label or key config differs */
	CONTAINER_DRIFT_STOPPED,	/* matches but State.Running is false */
	CONTAINER_DRIFT_REMOVED,	/* inspect is NULL: no such container */
	CONTAINER_DRIFT_UNMANAGED	/* no kom.managed=true label */
};

/*
 * Compare an inspected container (GET /containers/ID/json, or NULL when
 * it does not exist) with the body kom would create.  Checks, in order:
 * existence, kom.managed, the kom.config-hash label against the body's,
 * then key fields changed by hand (docker update, docker network
 * connect...): Image, Cmd, Env (names only in messages), Labels,
 * HostConfig NetworkMode, RestartPolicy, Binds, PortBindings, Memory,
 * MemoryReservation, NanoCpus, CpuShares, CpusetCpus, PidsLimit,
 * Privileged, ReadonlyRootfs; then State.Running (a paused container is
 * running).  Returns the enum value; why (when not NULL) gets one line
 * saying what differs, "" when nothing does.
 */
int container_drift(const json_t *inspect, const json_t *create_body,
    char *why, size_t whylen);

/* "changed", "stopped", "removed", "unmanaged"; NULL for NONE. */
const char *container_drift_name(int drift);

#endif
