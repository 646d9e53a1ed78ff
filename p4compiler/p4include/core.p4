/*
 * core.p4 -- p4lvs toolchain edition.
 *
 * Written for the p4lvs project (p4pc compiler).  Every P4_16 program
 * includes this file first.  It names the handful of things the language
 * itself relies on: the built-in parser errors, the packet_in/packet_out
 * externs used by parsers and deparsers, the three basic match kinds and
 * the empty action NoAction.
 *
 * Compatibility note: the declarations below (names, types, parameter
 * order and directions, annotations, and the order of error members)
 * follow the P4_16 specification's core library exactly, so programs
 * written for p4c compile unchanged and produce the same BMv2 JSON and
 * P4Info.  The prose is ours.
 */

#ifndef _CORE_P4_
#define _CORE_P4_

// Parser errors known to every target.  Member order is significant: the
// BMv2 JSON "errors" table numbers them 0, 1, 2, ... in this order.
error {
    NoError,               // the parser has not failed
    PacketTooShort,        // extract/lookahead ran past the end of the packet
    NoMatch,               // a select() had no matching case
    StackOutOfBounds,      // .next or an index went past the end of a header stack
    HeaderTooShort,        // a varbit extract asked for more bits than the field holds
    ParserTimeout,         // the target gave up on a parser that ran too long
    ParserInvalidArgument  // a parser primitive got an argument it cannot honour
}

// The packet as seen by a parser: a read cursor over the received bytes.
extern packet_in {
    // Copy the next sizeof(hdr) bits into hdr and mark it valid.
    void extract<T>(out T hdr);
    // Same, for a header ending in a varbit field whose size (in bits) is
    // only known at run time.
    void extract<T>(out T variableSizeHeader,
                    in bit<32> variableFieldSizeInBits);
    // Peek at the next bits without moving the cursor.
    T lookahead<T>();
    // Skip bits without copying them anywhere.
    void advance(in bit<32> sizeInBits);
    // Total packet length in bytes (not every target can provide it).
    bit<32> length();
}

// The packet under construction in a deparser.
extern packet_out {
    // Append hdr if it is valid; a struct, stack or union is appended
    // member by member.
    void emit<T>(in T hdr);
}

// Inside a parser: if check is false, stop parsing with error toSignal.
extern void verify(in bool check, in error toSignal);

// The do-nothing action, usable as a default action anywhere.
@noWarn("unused")
action NoAction() {}

// The match kinds every architecture understands; v1model adds more.
match_kind {
    exact,
    ternary,
    lpm
}

// Compile-time assertions: the program is rejected when check is false.
extern bool static_assert(bool check, string message);
extern bool static_assert(bool check);

#endif  /* _CORE_P4_ */
