//! A navigable tree over a flat list of records (parents, children, depth, path), built once
//! with every structural check: duplicate ids, unknown parents, cycles, more than one root.

use std::collections::HashMap;
use std::hash::Hash;

/// What is structurally wrong with a list of records. Each variant names the record by id and name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("{id} ({name:?}) appears more than once")]
    DuplicateId { id: String, name: String },
    #[error("{id} ({name:?}) has parent {parent} which is not in the file")]
    UnknownParent { id: String, name: String, parent: String },
    #[error("{id} ({name:?}) is its own ancestor (cycle in parents)")]
    Cycle { id: String, name: String },
    #[error("more than one root: {first_id} ({first_name:?}) and {id} ({name:?}) have no parent")]
    SeveralRoots { first_id: String, first_name: String, id: String, name: String },
    #[error("the file holds no units")]
    Empty,
}

/// Index-based tree. Node `i` is the `i`-th record given to [`Tree::build`].
#[derive(Debug, Clone, Default)]
pub struct Tree {
    parent: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
    depth: Vec<u32>,
    roots: Vec<usize>,
    /// Nodes in pre-order (parents before children, siblings in input order).
    preorder: Vec<usize>,
}

impl Tree {
    /// Builds the tree from `(id, name, parent id)` triples. With `single_root`, more than one
    /// record without a parent is an error; without it, a forest is allowed (e.g. a SOR file with
    /// several institution owners).
    pub fn build<'a, K, I>(records: I, single_root: bool) -> Result<(Tree, HashMap<K, usize>), TreeError>
    where
        K: Eq + Hash + Clone + std::fmt::Display + 'a,
        I: IntoIterator<Item = (&'a K, &'a str, Option<&'a K>)>,
    {
        let records: Vec<(&K, &str, Option<&K>)> = records.into_iter().collect();
        let mut index: HashMap<K, usize> = HashMap::with_capacity(records.len());
        for (i, (id, name, _)) in records.iter().enumerate() {
            if index.insert((*id).clone(), i).is_some() {
                return Err(TreeError::DuplicateId { id: id.to_string(), name: name.to_string() });
            }
        }
        let n = records.len();
        let mut parent = vec![None; n];
        let mut children = vec![Vec::new(); n];
        let mut roots = Vec::new();
        for (i, (id, name, p)) in records.iter().enumerate() {
            match p {
                Some(p) => {
                    let Some(&pi) = index.get(*p) else {
                        return Err(TreeError::UnknownParent {
                            id: id.to_string(),
                            name: name.to_string(),
                            parent: p.to_string(),
                        });
                    };
                    if pi == i {
                        return Err(TreeError::Cycle { id: id.to_string(), name: name.to_string() });
                    }
                    parent[i] = Some(pi);
                    children[pi].push(i);
                }
                None => {
                    if single_root {
                        if let Some(&first) = roots.first() {
                            let (fid, fname, _): (&K, &str, Option<&K>) = records[first];
                            return Err(TreeError::SeveralRoots {
                                first_id: fid.to_string(),
                                first_name: fname.to_string(),
                                id: id.to_string(),
                                name: name.to_string(),
                            });
                        }
                    }
                    roots.push(i);
                }
            }
        }
        // Walk from the roots; whatever is not reached sits on a cycle (or hangs below one).
        let mut depth = vec![u32::MAX; n];
        let mut preorder = Vec::with_capacity(n);
        let mut stack: Vec<usize> = roots.iter().rev().copied().collect();
        for &r in &roots {
            depth[r] = 0;
        }
        while let Some(i) = stack.pop() {
            preorder.push(i);
            for &c in children[i].iter().rev() {
                depth[c] = depth[i] + 1;
                stack.push(c);
            }
        }
        if preorder.len() != n {
            let i = (0..n).find(|&i| depth[i] == u32::MAX && on_cycle(&parent, i)).unwrap_or(0);
            let (id, name, _) = records[i];
            return Err(TreeError::Cycle { id: id.to_string(), name: name.to_string() });
        }
        if n == 0 {
            return Err(TreeError::Empty);
        }
        Ok((Tree { parent, children, depth, roots, preorder }, index))
    }

    pub fn len(&self) -> usize {
        self.parent.len()
    }
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }
    pub fn parent(&self, i: usize) -> Option<usize> {
        self.parent[i]
    }
    pub fn children(&self, i: usize) -> &[usize] {
        &self.children[i]
    }
    pub fn depth(&self, i: usize) -> u32 {
        self.depth[i]
    }
    pub fn roots(&self) -> &[usize] {
        &self.roots
    }
    /// All nodes, parents before their children.
    pub fn preorder(&self) -> &[usize] {
        &self.preorder
    }
    /// Ancestors of `i`, nearest first (not including `i`).
    pub fn ancestors(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(self.parent[i], move |&p| self.parent[p])
    }
    /// The path from the root down to `i`, inclusive.
    pub fn path(&self, i: usize) -> Vec<usize> {
        let mut p: Vec<usize> = std::iter::once(i).chain(self.ancestors(i)).collect();
        p.reverse();
        p
    }
    /// `i` and everything below it, in pre-order.
    pub fn descendants(&self, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![i];
        while let Some(n) = stack.pop() {
            out.push(n);
            stack.extend(self.children[n].iter().rev());
        }
        out
    }
}

fn on_cycle(parent: &[Option<usize>], start: usize) -> bool {
    let mut seen = std::collections::HashSet::new();
    let mut cur = Some(start);
    while let Some(c) = cur {
        if !seen.insert(c) {
            return c == start || on_cycle_from(parent, c, start);
        }
        cur = parent[c];
    }
    false
}

fn on_cycle_from(parent: &[Option<usize>], cycle_node: usize, start: usize) -> bool {
    let mut cur = parent[cycle_node];
    while let Some(c) = cur {
        if c == start {
            return true;
        }
        if c == cycle_node {
            return false;
        }
        cur = parent[c];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(recs: &[(&str, Option<&str>)], single: bool) -> Result<Tree, TreeError> {
        let owned: Vec<(String, String, Option<String>)> =
            recs.iter().map(|(i, p)| (i.to_string(), format!("name {i}"), p.map(str::to_string))).collect();
        Tree::build(owned.iter().map(|(i, n, p)| (i, n.as_str(), p.as_ref())), single).map(|(t, _)| t)
    }

    #[test]
    fn paths_depths_and_descendants() {
        let t = build(&[("a", None), ("b", Some("a")), ("c", Some("b")), ("d", Some("a"))], true).unwrap();
        assert_eq!(t.path(2), vec![0, 1, 2]);
        assert_eq!(t.depth(2), 2);
        assert_eq!(t.descendants(0), vec![0, 1, 2, 3]);
        assert_eq!(t.preorder(), &[0, 1, 2, 3]);
    }

    #[test]
    fn structural_errors_name_the_record() {
        assert!(matches!(build(&[("a", None), ("a", None)], true), Err(TreeError::DuplicateId { .. })));
        assert!(matches!(build(&[("a", None), ("b", Some("x"))], true), Err(TreeError::UnknownParent { .. })));
        assert!(matches!(build(&[("a", None), ("b", None)], true), Err(TreeError::SeveralRoots { .. })));
        assert!(build(&[("a", None), ("b", None)], false).is_ok());
        let e = build(&[("r", None), ("b", Some("c")), ("c", Some("b")), ("d", Some("c"))], true).unwrap_err();
        assert!(matches!(&e, TreeError::Cycle { id, .. } if id == "b" || id == "c"), "{e}");
        assert!(matches!(build(&[], true), Err(TreeError::Empty)));
    }
}
