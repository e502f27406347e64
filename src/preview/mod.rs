//! Consequence preview: what FK-ORG edits would do in SOR, as a tree diff. Pure: no IO.
