//! Generated municipalities at national scale, with ground truth and change over time.
