/*
 * v1model.p4 -- p4lvs toolchain edition.
 *
 * Written for the p4lvs project.  This is the architecture file for the
 * "V1Switch" model that BMv2's simple_switch implements (and that p4sw,
 * our software switch, reproduces).  It declares the six programmable
 * blocks of the pipeline, the standard metadata every block can read and
 * write, and the externs the target offers (counters, meters, registers,
 * hashes, checksums, cloning, digests, ...).
 *
 * Compatibility note: the interface below -- every name, type, parameter
 * order and direction, the annotations the compiler acts on (@pure,
 * @noSideEffects, @deprecated, @alias, @metadata, @pipeline, @deparser),
 * the V1MODEL_VERSION macro with its conditional branches, enum member
 * order and the field order of standard_metadata_t -- is the de facto
 * v1model interface as p4c defines it, so that existing programs compile
 * unchanged and produce the same BMv2 JSON and P4Info.  The explanations
 * are ours; behaviour is specified by simple_switch (see the BMv2
 * documentation, "simple_switch.md", for the end-of-ingress/egress
 * ordering of drop, clone, resubmit, recirculate and multicast).
 */

#ifndef _V1_MODEL_P4_
#define _V1_MODEL_P4_

#include "core.p4"

/*
 * Interface revision.  Programs may define V1MODEL_VERSION before including
 * this file to get an older interface; the default is the original one.
 * Revision 20200408 introduced PortId_t and made the index type of
 * counter, meter and register a type parameter (I) instead of bit<32>.
 */
#ifndef V1MODEL_VERSION
#define V1MODEL_VERSION 20180101
#endif

// Extra match kinds: ranges, "value or don't care", and the selector key
// of tables implemented by an action_selector.
match_kind {
    range,
    optional,
    selector
}

// The revision actually in force, visible to the program as a constant.
const bit<32> __v1model_version = V1MODEL_VERSION;

#if V1MODEL_VERSION >= 20200408
typedef bit<9>  PortId_t;   // simple_switch port numbers are 9 bits wide
#endif

/*
 * Per-packet metadata owned by the architecture.  The field order is part
 * of the interface (it is the layout of BMv2's "standard_metadata" header).
 * Fields marked @alias are really simple_switch's internal queueing_metadata
 * and intrinsic_metadata fields; the compiler lists them in the BMv2 JSON
 * "field_aliases" section so the switch can map them.
 */
@metadata @name("standard_metadata")
struct standard_metadata_t {
#if V1MODEL_VERSION >= 20200408
    PortId_t    ingress_port;   // port the packet arrived on
    PortId_t    egress_spec;    // set in ingress: where the packet should go
    PortId_t    egress_port;    // in egress: the port actually chosen
#else
    bit<9>      ingress_port;
    bit<9>      egress_spec;
    bit<9>      egress_port;
#endif
    bit<32>     instance_type;  // normal, clone, resubmit, recirculate, replica
    bit<32>     packet_length;  // bytes, as received

    // Queueing information, valid in egress.
    @alias("queueing_metadata.enq_timestamp")
    bit<32> enq_timestamp;      // microseconds, when the packet was enqueued
    @alias("queueing_metadata.enq_qdepth")
    bit<19> enq_qdepth;         // queue depth seen on enqueue
    @alias("queueing_metadata.deq_timedelta")
    bit<32> deq_timedelta;      // microseconds spent queued
    @alias("queueing_metadata.deq_qdepth")
    bit<19> deq_qdepth;         // queue depth seen on dequeue

    // Timestamps, microseconds.
    @alias("intrinsic_metadata.ingress_global_timestamp")
    bit<48> ingress_global_timestamp;
    @alias("intrinsic_metadata.egress_global_timestamp")
    bit<48> egress_global_timestamp;

    // Multicast: set mcast_grp in ingress to replicate; each copy carries
    // the replication id of the node that produced it in egress_rid.
    @alias("intrinsic_metadata.mcast_grp")
    bit<16> mcast_grp;
    @alias("intrinsic_metadata.egress_rid")
    bit<16> egress_rid;

    // 1 when a verify_checksum call in VerifyChecksum found a mismatch.
    bit<1>  checksum_error;
    // What the parser ended with (error.NoError when it accepted).
    error parser_error;

    @alias("intrinsic_metadata.priority")
    bit<3> priority;            // egress queue priority
}

// What a counter cell accumulates.
enum CounterType {
    packets,
    bytes,
    packets_and_bytes
}

// What a meter measures.
enum MeterType {
    packets,
    bytes
}

/*
 * An array of `size` counter cells, indexed 0..size-1.  The data plane can
 * only increment them; only the control plane reads (and resets) them.
 * Use a register for state the program itself must read.
 */
extern counter
#if V1MODEL_VERSION >= 20200408
<I>
#endif
{
    counter(bit<32> size, CounterType type);
    // Add this packet to cell `index`; an index >= size changes nothing.
#if V1MODEL_VERSION >= 20200408
    void count(in I index);
#else
    void count(in bit<32> index);
#endif
}

/*
 * One counter cell per entry of the table that names this object in its
 * `counters` property.  The cell of the matching entry is updated on every
 * hit whether or not the action calls count(), so count() is optional.
 */
extern direct_counter {
    direct_counter(CounterType type);
    void count();
}

// Colours a meter reports (RFC 2697/2698 order).
#define V1MODEL_METER_COLOR_GREEN  0
#define V1MODEL_METER_COLOR_YELLOW 1
#define V1MODEL_METER_COLOR_RED    2

/*
 * An array of `size` two-rate three-colour meters.  Rates and bursts are
 * configured by the control plane; unconfigured cells report green.
 */
extern meter
#if V1MODEL_VERSION >= 20200408
<I>
#endif
{
    meter(bit<32> size, MeterType type);
    // Update cell `index` with this packet and write its colour (0 green,
    // 1 yellow, 2 red) to result, which must be bit<W> with W >= 2.  With an
    // index >= size, result is unspecified.
#if V1MODEL_VERSION >= 20200408
    void execute_meter<T>(in I index, out T result);
#else
    void execute_meter<T>(in bit<32> index, out T result);
#endif
}

/*
 * One meter per entry of the table whose `meters` property names this
 * object; the matching entry's meter runs on every hit.  read() -- only
 * legal in an action of that table -- gives the colour it produced.
 */
extern direct_meter<T> {
    direct_meter(MeterType type);
    void read(out T result);
}

/*
 * An array of `size` cells of type T (bit<W>) that the data plane can both
 * read and write, e.g.  register<bit<32>>(1024) flow_bytes;
 * Out-of-range reads give an unspecified value; out-of-range writes are
 * ignored.  Read-modify-write sequences that must be atomic with respect
 * to other packets belong in an @atomic block.
 */
#if V1MODEL_VERSION >= 20200408
extern register<T, I>
#else
extern register<T>
#endif
{
    register(bit<32> size);
    @noSideEffects
#if V1MODEL_VERSION >= 20200408
    void read(out T result, in I index);
#else
    void read(out T result, in bit<32> index);
#endif
#if V1MODEL_VERSION >= 20200408
    void write(in I index, in T value);
#else
    void write(in bit<32> index, in T value);
#endif
}

// Table implementation: a pool of `size` (action, data) members shared by
// the entries of the tables whose `implementation` property names it.
extern action_profile {
    action_profile(bit<32> size);
}

// Write a random value in [lo, hi] to result (T is bit<W>); unspecified
// when lo > hi.
extern void random<T>(out T result, in T lo, in T hi);

/*
 * Queue a learning message for the control plane carrying `data` as it is
 * at the time of the call (later changes to those fields are not seen).
 * Ingress only; cannot be undone.  When T is a named struct its name
 * becomes the digest's control-plane name.  simple_switch ignores
 * `receiver`.
 */
extern void digest<T>(in bit<32> receiver, in T data);

// Algorithms for hash(), action_selector and the checksum externs.
// Member order is significant.
enum HashAlgorithm {
    crc32,
    crc32_custom,
    crc16,
    crc16_custom,
    random,
    identity,
    csum16,
    xor16
}

// Old form without arguments; kept so old programs still compile.
@deprecated("Please use mark_to_drop(standard_metadata) instead.")
extern void mark_to_drop();

/*
 * Set egress_spec to the drop port and mcast_grp to 0.  The packet is only
 * dropped if nothing later overrides those fields before the end of the
 * block (see simple_switch's end-of-pipeline rules).
 */
@pure
extern void mark_to_drop(inout standard_metadata_t standard_metadata);

/*
 * result = base + (hash_algo(data) mod max), so it lies in
 * [base, base + max - 1]; with max == 0 the result is base.  O is bit<W>;
 * D is a list/tuple of bit<W>, int<W> or varbit fields; T and M are bit
 * types, and all of these may have different widths.
 */
@pure
extern void hash<O, T, D, M>(out O result, in HashAlgorithm algo, in T base, in D data, in M max);

// Table implementation: an action profile whose groups pick a member by
// hashing the table's `selector` key fields (outputWidth bits of hash).
extern action_selector {
    action_selector(HashAlgorithm algorithm, bit<32> size, bit<32> outputWidth);
}

// Where a clone is taken: ingress-to-egress or egress-to-egress.
enum CloneType {
    I2E,
    E2E
}

// Legacy incremental checksum object; the checksum externs below replace it.
@deprecated("Please use verify_checksum/update_checksum instead.")
extern Checksum16 {
    Checksum16();
    bit<16> get<D>(in D data);
}

/*
 * Checksum externs.  T is a list/tuple of bit/int/varbit fields whose total
 * width is a multiple of O's width; O is bit<X>; algo must be a compile-time
 * constant.  When condition is false nothing happens.
 *
 * verify_checksum (VerifyChecksum only): compare the checksum of data with
 * `checksum` (an l-value) and set standard_metadata.checksum_error to 1 on
 * a mismatch.
 *
 * update_checksum (ComputeChecksum only): write the checksum of data into
 * `checksum`.
 *
 * The _with_payload variants also cover the packet bytes after the last
 * header the parser extracted.
 */
extern void verify_checksum<T, O>(in bool condition, in T data, in O checksum, HashAlgorithm algo);

@pure
extern void update_checksum<T, O>(in bool condition, in T data, inout O checksum, HashAlgorithm algo);

extern void verify_checksum_with_payload<T, O>(in bool condition, in T data, in O checksum, HashAlgorithm algo);

@noSideEffects
extern void update_checksum_with_payload<T, O>(in bool condition, in T data, inout O checksum, HashAlgorithm algo);

/*
 * Mirror the packet to clone session `session` (configured by the control
 * plane) at the end of the current block; type must be I2E in ingress and
 * E2E in egress.  No user metadata travels with the clone.
 */
extern void clone(in CloneType type, in bit<32> session);

/*
 * Packet re-injection, old style: the field list is passed directly.
 * Kept for old programs; use the *_preserving_field_list forms.
 */
@deprecated("Please use 'resubmit_preserving_field_list' instead")
extern void resubmit<T>(in T data);

/*
 * The *_preserving_field_list externs carry selected user-metadata fields
 * along with the new packet: a field annotated @field_list(n, ...) is
 * preserved by a call with index n.  If one of them is called several
 * times in a block, only the last call counts.
 *
 * resubmit_preserving_field_list (ingress only): at the end of ingress,
 * start over at the parser with the packet as originally received.
 */
extern void resubmit_preserving_field_list(bit<8> index);

@deprecated("Please use 'recirculate_preserving_field_list' instead")
extern void recirculate<T>(in T data);

/*
 * recirculate_preserving_field_list (egress only): after the deparser,
 * feed the outgoing packet back into the parser as a new packet.
 */
extern void recirculate_preserving_field_list(bit<8> index);

@deprecated("Please use 'clone_preserving_field_list' instead")
extern void clone3<T>(in CloneType type, in bit<32> session, in T data);

/*
 * clone_preserving_field_list: like clone(), plus the indexed field list.
 */
extern void clone_preserving_field_list(in CloneType type, in bit<32> session, bit<8> index);

// Send at most `length` bytes of the packet out (payload beyond is cut).
extern void truncate(in bit<32> length);

/*
 * Verification aids.  On a switch both behave the same: a false check makes
 * simple_switch log where it failed and exit; compiling with --ndebug drops
 * them.  They differ only for formal tools: assert states a property to
 * prove, assume restricts the inputs worth considering.  Keep the argument
 * free of side effects so the program means the same without them.
 */
extern void assert(in bool check);
extern void assume(in bool check);

// Debug output to the switch log: log_msg("x = {}", {x}) replaces each {}
// with the next value of the list.
extern void log_msg(string msg);
extern void log_msg<T>(string msg, in T data);

/*
 * The pipeline.  H is the struct of headers (every member a header, header
 * stack or header union), M the struct of user metadata.  The name
 * standard_metadata is reserved for the architecture's metadata.
 */
parser Parser<H, M>(packet_in b,
                    out H parsedHdr,
                    inout M meta,
                    inout standard_metadata_t standard_metadata);

// Only verify_checksum / verify_checksum_with_payload calls (and blocks
// and returns) are allowed here.
control VerifyChecksum<H, M>(inout H hdr,
                             inout M meta);

@pipeline
control Ingress<H, M>(inout H hdr,
                      inout M meta,
                      inout standard_metadata_t standard_metadata);

@pipeline
control Egress<H, M>(inout H hdr,
                     inout M meta,
                     inout standard_metadata_t standard_metadata);

// Only update_checksum / update_checksum_with_payload calls (and blocks
// and returns) are allowed here.
control ComputeChecksum<H, M>(inout H hdr,
                              inout M meta);

// Only emit() calls (and blocks) are allowed here.
@deparser
control Deparser<H>(packet_out b, in H hdr);

// The top-level package: the program instantiates it as `main`.
package V1Switch<H, M>(Parser<H, M> p,
                       VerifyChecksum<H, M> vr,
                       Ingress<H, M> ig,
                       Egress<H, M> eg,
                       ComputeChecksum<H, M> ck,
                       Deparser<H> dep
                       );

#endif  /* _V1_MODEL_P4_ */
