//! Link proposals between FK-ORG and SOR units. Pure: no IO, no clock.
